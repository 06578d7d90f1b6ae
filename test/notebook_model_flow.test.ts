// Issue 14's promise, headless: change a layer in 01_model's cell, run 01 and 02_train, and 02 trains that model
// as a cached, resumable run of its own (not the report's), loads it when run again, and draws its curves;
// 03_evaluate then evaluates those runs.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { NOTEBOOK_MODEL_FILE, executeNotebook, listRuns, projectRoot, type StoredRun } from "mnist-lab";
import { labNotebookDir } from "./helpers/notebook_fixtures";
import { tempDir } from "./helpers/idx_fixtures";

type Cell = { cell_type: string; metadata: { tags?: string[] }; source: string | string[]; outputs?: Output[] };
type Output = { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]> };

let dir: string;
let runsDir: string;

/** Copies a notebook of the project into `dir`, editing the source of the cell tagged `tag`. */
function copyNotebook(name: string, edit?: { tag: string; from: string; to: string }): string {
  const nb = JSON.parse(fs.readFileSync(path.join(projectRoot(), "notebooks", name), "utf8")) as { cells: Cell[] };
  if (edit) {
    const cell = nb.cells.find((c) => c.metadata.tags?.includes(edit.tag));
    assert.ok(cell, `${name} has a cell tagged ${edit.tag}`);
    const source = [cell.source].flat().join("");
    assert.ok(source.includes(edit.from), `${edit.tag} holds ${edit.from}`);
    cell.source = source.replace(edit.from, edit.to);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

/** Runs a notebook at the smoke profile; returns the executed cells. */
async function run(file: string, label: string): Promise<Cell[]> {
  const result = await executeNotebook(file, {
    parameters: { profile: "smoke" },
    outHtml: path.join(dir, `${label}.html`),
    outIpynb: path.join(dir, `${label}.ipynb`),
    timeoutSeconds: 600,
  });
  return (JSON.parse(fs.readFileSync(result.executed, "utf8")) as { cells: Cell[] }).cells;
}

function stdout(cells: Cell[]): string {
  return cells
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => [o.text ?? ""].flat().join(""))
    .join("");
}

let model01: string;
let first02: Cell[];
let second02: Cell[];
let evaluate03: string;
let runsAfterFirst: StoredRun[];

before(async () => {
  dir = labNotebookDir();
  // The kernels inherit this: 01 saves its model here and 02 trains into it.
  runsDir = process.env.MNIST_LAB_RUNS_DIR = tempDir("mnist-lab-flow-runs-");
  // 8 filters in the second convolution instead of 64: a changed layer that also makes smoke training fast.
  const model = copyNotebook("01_model.ipynb", {
    tag: "report-model",
    from: 'model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 5, activation: "relu", kernelInitializer: "glorotUniform" }));',
    to: 'model.add(tfl.layers.conv2d({ filters: 8, kernelSize: 5, activation: "relu", kernelInitializer: "glorotUniform" }));',
  });
  const train = copyNotebook("02_train.ipynb");
  model01 = stdout(await run(model, "01"));
  first02 = await run(train, "02-first");
  runsAfterFirst = listRuns(runsDir);
  second02 = await run(train, "02-second");
  evaluate03 = stdout(await run(copyNotebook("03_evaluate.ipynb"), "03"));
});

test("01_model saves the changed cell's model and says how it differs from the report's CNN", () => {
  assert.ok(fs.existsSync(path.join(runsDir, NOTEBOOK_MODEL_FILE)));
  assert.match(model01, /saved for 02_train and 05_experiments: .*notebook-model\.json/);
  assert.match(model01, /differs from the report's CNN in \d+ layer\(s\): 02_train trains it as runs of its own/);
  assert.match(model01, /\n {2}layer 3: Conv2D \[null,20,20,8\] 12808 .*filters=8 .* vs Conv2D \[null,20,20,64\] 102464 .*filters=64 /);
});

test("02_train trains the changed model as model… runs, not the report's", () => {
  const ids = runsAfterFirst.map((r) => r.runId);
  assert.equal(ids.length, 2, ids.join(", "));
  // conv 2 (5×5×64×8 + 8), its BatchNorm (4 × 8) and conv 3 (5×5×8×64 + 64) instead of 102,464 + 256 + 102,464.
  for (const id of ids) assert.match(id, /^model170610-(rmsprop|adam)-e2-b86-aug-n1720-asrun-s42-[0-9a-f]{8}$/);
  for (const r of runsAfterFirst) {
    assert.equal(r.config.model, null);
    assert.equal(r.metrics?.epochsCompleted, 2);
  }
  assert.match(stdout(first02), /differs from the report's CNN/);
});

test("02_train run again loads the stored runs, and the curves come from their histories", () => {
  const text = stdout(second02);
  for (const r of runsAfterFirst) assert.ok(text.includes(`Run ${r.runId} is finished (2 epochs): loaded from`), r.runId);
  assert.deepEqual(
    listRuns(runsDir).map((r) => r.runId),
    runsAfterFirst.map((r) => r.runId),
    "no new run",
  );
  for (const r of listRuns(runsDir)) assert.equal(r.history.length, 2, `${r.runId} has a history`);
  const plots = second02
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => [o.data?.["text/html"] ?? ""].flat().join("").includes("mnist-lab-plot"));
  assert.ok(plots.length >= 3, `accuracy, loss and learning-rate curves (${plots.length} plots)`);
});

test("03_evaluate evaluates the changed model's runs", () => {
  for (const r of runsAfterFirst) {
    const name = r.config.optimizer === "rmsprop" ? "RMSprop" : "Adam";
    assert.ok(evaluate03.includes(`${name}: ${r.runId}, 2 epochs`), `${name} evaluated from ${r.runId}`);
  }
});
