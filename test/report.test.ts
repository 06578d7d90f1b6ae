import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  NotebookCellError,
  buildHtmlReport,
  declaredParameters,
  executeNotebook,
  listNotebooks,
  notebookParameterAssignments,
  parameterAssignments,
} from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";
import { writeNotebook } from "./helpers/notebook_fixtures";

test("parameterAssignments writes papermill-style TypeScript assignments", () => {
  assert.equal(
    parameterAssignments({ profile: "smoke", epochs: 2, dataDir: null, skip: undefined }),
    '{\n  profile = "smoke";\n  epochs = 2;\n  dataDir = null;\n}',
  );
  assert.equal(parameterAssignments({ profile: "smoke" }, { declare: true }), 'let profile = "smoke";');
  assert.throws(() => parameterAssignments({ "bad name": 1 }), /Expected a TypeScript identifier as parameter name but found "bad name"/);
});

test("each notebook gets the parameters its parameters cell declares; one without that cell gets declarations", () => {
  const dir = tempDir();
  const withCell = path.join(dir, "00_with.ipynb");
  const source = ['let profile: "smoke" | "quick" | "full" = "quick";\n', "  let seed = 42; // a comment\n", "const notAKnob = 1;"];
  const cells = [{ cell_type: "code", execution_count: null, id: "p", metadata: { tags: ["parameters"] }, outputs: [], source }];
  fs.writeFileSync(withCell, JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 }));
  const without = path.join(dir, "01_without.ipynb");
  writeNotebook(without, ["console.log(1);"]);
  const parameters = { profile: "full", seed: 3, schedule: "as-intended" };
  assert.deepEqual(declaredParameters(withCell), new Set(["profile", "seed"]));
  assert.equal(notebookParameterAssignments(withCell, parameters), '{\n  profile = "full";\n  seed = 3;\n}');
  assert.equal(declaredParameters(without), null);
  assert.equal(notebookParameterAssignments(without, parameters), 'let profile = "full";\nlet seed = 3;\nlet schedule = "as-intended";');
});

test("report --schedule reaches the notebooks that train and evaluate runs", () => {
  const declaring = listNotebooks()
    .filter((nb) => declaredParameters(nb)?.has("schedule"))
    .map((nb) => path.basename(nb));
  assert.deepEqual(declaring, ["02_train.ipynb", "03_evaluate.ipynb"]);
  for (const nb of listNotebooks()) {
    const declared = declaredParameters(nb);
    assert.ok(declared?.has("profile") && declared.has("seed"), `${path.basename(nb)} declares profile and seed`);
  }
});

test("listNotebooks finds the numbered notebooks in order", () => {
  const names = listNotebooks().map((p) => path.basename(p));
  assert.ok(names.length >= 1);
  assert.equal(names[0], "00_data.ipynb");
  assert.deepEqual([...names].sort(), names);
});

test("notebooks are stored without outputs", () => {
  for (const nb of listNotebooks()) {
    const cells = JSON.parse(fs.readFileSync(nb, "utf8")).cells as { outputs?: unknown[]; execution_count?: number | null }[];
    for (const cell of cells) {
      assert.deepEqual(cell.outputs ?? [], [], `${path.basename(nb)} has stored outputs`);
      assert.equal(cell.execution_count ?? null, null, `${path.basename(nb)} has an execution count`);
    }
  }
});

test("buildHtmlReport stops at a failing cell and keeps the last good report", async () => {
  const notebooks = tempDir();
  const out = tempDir();
  writeNotebook(path.join(notebooks, "00_ok.ipynb"), ['console.log("good run");']);
  await buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks });
  const report = path.join(out, "mnist-report.html");
  const good = fs.readFileSync(report, "utf8");
  assert.ok(good.includes("good run"));
  writeNotebook(path.join(notebooks, "01_broken.ipynb"), ["const x = 1;", 'throw new Error("broken on purpose");']);
  const log = path.join(out, "mnist-report.log");
  await assert.rejects(buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks }), (err: unknown) => {
    assert.equal(
      (err as Error).message,
      `01_broken.ipynb: code cell 2 failed: Error: broken on purpose (the cell's whole output and the kernel's stderr: ${log})`,
    );
    return true;
  });
  assert.equal(fs.readFileSync(report, "utf8"), good);
  assert.deepEqual(
    fs.readdirSync(out).filter((f) => f.startsWith(".staging")),
    [],
    "staging cleaned up",
  );
  const logText = fs.readFileSync(log, "utf8");
  assert.match(logText, /== 00_ok\.ipynb: ok in/);
  assert.match(logText, /-- the output of the failing cell\n[^]*Error: broken on purpose\n\s+at /, "the whole error text, stack included");
});

test("executeNotebook names the notebook, the cell and the error of a failing cell, and writes nothing", async () => {
  const dir = tempDir();
  const notebook = path.join(dir, "broken.ipynb");
  writeNotebook(notebook, ["const a = 1;", 'throw new RangeError("boom at step two");', "const c = 3;"]);
  const outHtml = path.join(dir, "out.html");
  await assert.rejects(executeNotebook(notebook, { outHtml, outIpynb: path.join(dir, "out.ipynb") }), (err: unknown) => {
    assert.ok(err instanceof NotebookCellError);
    assert.equal(err.message, "broken.ipynb: code cell 2 failed: RangeError: boom at step two");
    return true;
  });
  assert.equal(fs.existsSync(outHtml), false);
});
