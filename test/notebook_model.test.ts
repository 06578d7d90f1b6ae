import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import * as lab from "mnist-lab";

// 01_model's cell writes the report's CNN out layer by layer; the library's builder (the CLI's, 02_train's) must be that network.

const NOTEBOOK = path.join(__dirname, "..", "notebooks", "01_model.ipynb");

/** Runs the notebook cell tagged `report-model` (TypeScript) with `lab` in scope and returns its `model`. */
function modelFromCell(edit: (source: string) => string = (s) => s): lab.tfl.Sequential {
  const cells = JSON.parse(fs.readFileSync(NOTEBOOK, "utf8")).cells as Array<{ metadata: { tags?: string[] }; source: string[] }>;
  const cell = cells.find((c) => c.metadata.tags?.includes("report-model"));
  assert.ok(cell, "01_model has a cell tagged report-model");
  const source = edit(cell.source.join("")).replace(/^console\.log\(lab\.modelSummaryText\(model\)\);.*$/m, "");
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  return new Function("lab", `${js}\nreturn model;`)(lab) as lab.tfl.Sequential;
}

test("01_model's layer-by-layer cell builds exactly lab.buildReportCnn's network (350,090 parameters)", async () => {
  await lab.initBackend("cpu");
  const fromCell = modelFromCell();
  const check = lab.compareArchitectures(fromCell, lab.buildReportCnn());
  assert.deepEqual(check.differences, []);
  assert.deepEqual(check.parameters, [lab.REPORT_CNN_PARAMS, lab.REPORT_CNN_PARAMS]);
  fromCell.dispose();
});

test("compareArchitectures names the layer a change in the cell touches", async () => {
  await lab.initBackend("cpu");
  const changed = modelFromCell((s) =>
    s.replace("model.add(tfl.layers.dropout({ rate: 0.25 }));", "model.add(tfl.layers.dropout({ rate: 0.5 }));"),
  );
  const check = lab.compareArchitectures(changed, lab.buildReportCnn());
  assert.equal(check.same, false);
  assert.deepEqual(
    check.differences.map((d) => d.split(":")[0]),
    ["layer 6"],
  );
  assert.match(check.differences[0], /rate=0\.5 vs Dropout .* rate=0\.25/);
  changed.dispose();
});

// saveNotebookModel / loadNotebookModel / modelVariant: 01_model's cell handed to 02_train and 05_experiments.

/** Every weight of a model, as plain arrays. */
function weightsOf(model: lab.tfl.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

function tempRunsDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-notebook-model-"));
}

test("saveNotebookModel writes one file into the runs dir that listRuns passes by; loadNotebookModel reads it back", async () => {
  await lab.initBackend("cpu");
  const runsDir = tempRunsDir();
  const model = modelFromCell();
  const file = await lab.saveNotebookModel(model, runsDir);
  assert.equal(file, path.join(runsDir, lab.NOTEBOOK_MODEL_FILE));
  assert.deepEqual(fs.readdirSync(runsDir), [lab.NOTEBOOK_MODEL_FILE]);
  assert.deepEqual(lab.listRuns(runsDir), []);
  const loaded = await lab.loadNotebookModel(runsDir);
  assert.equal(loaded.source, "01_model");
  assert.equal(loaded.file, file);
  assert.equal(loaded.parameters, lab.REPORT_CNN_PARAMS);
  assert.ok(loaded.savedAt && !Number.isNaN(Date.parse(loaded.savedAt)));
  assert.deepEqual(loaded.topology, JSON.parse(JSON.stringify(model.toJSON(null, false))));
  assert.equal(loaded.sameAsReport, true);
  assert.deepEqual(loaded.differences, []);
  assert.match(loaded.summary, /^01_model's model \(saved .*, 350,090 parameters\) is the report's CNN: 02_train trains the report's runs/);
  model.dispose();
  fs.rmSync(runsDir, { recursive: true, force: true });
});

test("loadNotebookModel build(seed) of the unchanged cell gives buildReportCnn({ seed })'s initial weights and topology", async () => {
  await lab.initBackend("cpu");
  const runsDir = tempRunsDir();
  const cell = modelFromCell();
  await lab.saveNotebookModel(cell, runsDir);
  const loaded = await lab.loadNotebookModel(runsDir);
  for (const seed of [7, 42]) {
    const rebuilt = await loaded.build(seed);
    const report = lab.buildReportCnn({ seed });
    assert.equal(lab.topologySha256(rebuilt), lab.topologySha256(report));
    assert.deepEqual(weightsOf(rebuilt), weightsOf(report));
    rebuilt.dispose();
    report.dispose();
  }
  const [a, b] = [await loaded.build(1), await loaded.build(2)];
  assert.notDeepEqual(weightsOf(a)[0], weightsOf(b)[0], "another seed, other weights");
  [cell, a, b].forEach((m) => m.dispose());
  fs.rmSync(runsDir, { recursive: true, force: true });
});

test("loadNotebookModel without a saved model is the report's CNN", async () => {
  await lab.initBackend("cpu");
  const runsDir = tempRunsDir();
  const loaded = await lab.loadNotebookModel(runsDir);
  assert.equal(loaded.source, "report");
  assert.equal(loaded.savedAt, null);
  assert.equal(loaded.sameAsReport, true);
  assert.match(
    loaded.summary,
    /^01_model has saved no model in .*notebook-model\.json: 02_train and 05_experiments train the report's CNN/,
  );
  const built = await loaded.build(3);
  const report = lab.buildReportCnn({ seed: 3 });
  assert.deepEqual(weightsOf(built), weightsOf(report));
  // Its topology builds the same network too (what modelVariant starts from).
  const fromTopology = await lab.modelSpecFromTopology(loaded.topology).build(3);
  assert.deepEqual(weightsOf(fromTopology), weightsOf(report));
  [built, report, fromTopology].forEach((m) => m.dispose());
  fs.rmSync(runsDir, { recursive: true, force: true });
});

test("loadNotebookModel names what a changed cell changed: a layer's setting, or only an initializer", async () => {
  await lab.initBackend("cpu");
  const runsDir = tempRunsDir();
  const dropout = modelFromCell((s) =>
    s.replace("model.add(tfl.layers.dropout({ rate: 0.25 }));", "model.add(tfl.layers.dropout({ rate: 0.5 }));"),
  );
  await lab.saveNotebookModel(dropout, runsDir);
  const changed = await lab.loadNotebookModel(runsDir);
  assert.equal(changed.sameAsReport, false);
  assert.deepEqual(
    changed.differences.map((d) => d.split(":")[0]),
    ["layer 6"],
  );
  assert.match(changed.summary, /differs from the report's CNN in 1 layer\(s\): 02_train trains it as runs of its own \(model…\)/);
  assert.match(changed.summary, /re-run 01_model's unchanged cell to go back\n {2}layer 6: Dropout .* rate=0\.5 vs /);

  // compareArchitectures does not see initializers; the cell's old tfjs default (glorotNormal) still makes another run.
  const normal = modelFromCell((s) => s.replace('kernelInitializer: "glorotUniform"', 'kernelInitializer: "glorotNormal"'));
  await lab.saveNotebookModel(normal, runsDir);
  const initializer = await lab.loadNotebookModel(runsDir);
  assert.equal(initializer.sameAsReport, false);
  assert.equal(initializer.differences.length, 1);
  assert.match(
    initializer.differences[0],
    /^layer 1: Conv2D kernel_initializer=\{.*"distribution":"normal".*\} vs Conv2D kernel_initializer=\{.*"uniform"/,
  );
  [dropout, normal].forEach((m) => m.dispose());
  fs.rmSync(runsDir, { recursive: true, force: true });
});

test("comparisonScope says what of 01's edit each comparison keeps; 05's summary names 05, not 02_train", async () => {
  await lab.initBackend("cpu");
  const runsDir = tempRunsDir();
  const unchanged = await lab.loadNotebookModel({ runsDir, notebook: "05_experiments" });
  assert.equal(lab.comparisonScope(unchanged, "dropout"), "01_model's model is the report's CNN: this comparison starts from it.");
  const half = modelFromCell((s) => s.replaceAll("rate: 0.25", "rate: 0.5"));
  await lab.saveNotebookModel(half, runsDir);
  const model = await lab.loadNotebookModel({ runsDir, notebook: "05_experiments" });
  assert.match(model.summary, /differs from the report's CNN in 4 layer\(s\): every comparison below starts from it/);
  assert.doesNotMatch(model.summary, /02_train/);
  const edit = [6, 12, 15, 18].map((layer) => `layer ${layer} (Dropout) rate 0.25 → 0.5`).join("; ");
  assert.equal(
    lab.comparisonScope(model, "dropout"),
    `01_model's edit (${edit}) cannot change this comparison: ` +
      "its arms set every dropout rate themselves, so it gives the same runs as before the edit.",
  );
  assert.equal(lab.comparisonScope(model, "augmentation"), `This comparison keeps 01_model's edit: ${edit}.`);

  const halfAndKernel = modelFromCell((s) =>
    s.replaceAll("rate: 0.25", "rate: 0.5").replace("filters: 64, kernelSize: 5,", "filters: 64, kernelSize: 3,"),
  );
  await lab.saveNotebookModel(halfAndKernel, runsDir);
  const both = await lab.loadNotebookModel(runsDir);
  assert.match(both.summary, /02_train trains it as runs of its own/, "02's words by default");
  assert.equal(
    lab.comparisonScope(both, "kernelSize"),
    `This comparison keeps 01_model's edit: ${edit}. Not the rest (layer 1 (Conv2D) kernel_size [5,5] → [3,3]): ` +
      "its arms set the kernels of the first 3 convolutions themselves.",
  );
  [half, halfAndKernel].forEach((m) => m.dispose());
  fs.rmSync(runsDir, { recursive: true, force: true });
});

test("modelVariant changes every dropout rate, leaves out BatchNormalization, or resizes the first convolutions", async () => {
  await lab.initBackend("cpu");
  const report = await lab.loadNotebookModel(tempRunsDir());
  const build = (change: lab.ModelVariant) => lab.modelVariant(report, change).build(42);

  const dropout = await build({ dropout: 0.5 });
  assert.equal(dropout.countParams(), lab.REPORT_CNN_PARAMS);
  assert.deepEqual(
    dropout.layers.filter((l) => l.getClassName() === "Dropout").map((l) => (l.getConfig() as { rate: number }).rate),
    [0.5, 0.5, 0.5, 0.5],
  );
  const same = await build({ dropout: 0.25 });
  const reference = lab.buildReportCnn({ seed: 42 });
  assert.equal(lab.topologySha256(same), lab.topologySha256(reference), "the report's own rate is the report's model");
  assert.deepEqual(weightsOf(same), weightsOf(reference));

  // Five BatchNorms of 4 × 64 parameters go.
  const noNorm = await build({ batchNormalization: false });
  assert.equal(noNorm.countParams(), lab.REPORT_CNN_PARAMS - 5 * 4 * 64);
  assert.ok(!noNorm.layers.some((l) => l.getClassName() === "BatchNormalization"));

  // 3×3 in the first three: convs 640 + 36,928 + 36,928; 28 → 26 → 24 → pool 12 → 10 → 8 → pool 4 → 4: dense 1024 × 256 + 256.
  const small = await build({ kernelSize: { size: 3, convs: 3 } });
  assert.equal(small.countParams(), lab.REPORT_CNN_PARAMS - (1664 - 640) - 2 * (102_464 - 36_928) + (262_400 - 65_792));
  assert.deepEqual(
    small.layers.filter((l) => l.getClassName() === "Conv2D").map((l) => (l.getConfig() as { kernelSize: number[] }).kernelSize),
    [
      [3, 3],
      [3, 3],
      [3, 3],
      [3, 3],
      [3, 3],
    ],
  );
  [dropout, same, reference, noNorm, small].forEach((m) => m.dispose());
});

test("modelVariant and the notebook model refuse what they cannot do, in one line", async () => {
  await lab.initBackend("cpu");
  const runsDir = tempRunsDir();
  const { tfl } = lab;
  const input = tfl.input({ shape: [28, 28, 1] });
  const functional = tfl.model({
    inputs: input,
    outputs: tfl.layers.dense({ units: 10, activation: "softmax" }).apply(tfl.layers.flatten().apply(input)) as lab.tfl.SymbolicTensor,
  });
  await lab.saveNotebookModel(functional, runsDir);
  const loaded = await lab.loadNotebookModel(runsDir);
  assert.equal(loaded.sameAsReport, false);
  assert.throws(
    () => lab.modelVariant(loaded, { dropout: 0 }),
    /^MnistLabError: Expected a Sequential model to derive a variant from \(its layer list is edited\) but found a Model model; build/,
  );
  const plain = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10, activation: "softmax" })],
  });
  const spec = lab.modelSpecFromTopology(JSON.parse(JSON.stringify(plain.toJSON(null, false))));
  assert.throws(
    () => lab.modelVariant(spec, { dropout: 0 }),
    /^MnistLabError: Expected Dropout layers to set the rate of but the model has none$/,
  );
  assert.throws(
    () => lab.modelVariant(spec, { batchNormalization: false }),
    /Expected BatchNormalization layers to leave out but the model has none$/,
  );
  assert.throws(
    () => lab.modelVariant(spec, { kernelSize: { size: 3, convs: 3 } }),
    /Expected at least 3 Conv2D layers to resize but the model has 0$/,
  );
  const report = await lab.loadNotebookModel(tempRunsDir());
  assert.throws(
    () => lab.modelVariant(report, { dropout: 1 }),
    /^MnistLabError: Expected a rate in \[0, 1\) for dropout but found number 1$/,
  );
  // A 29×29 'valid' kernel leaves the next convolution no image: tfjs's refusal is named.
  await assert.rejects(
    lab.modelVariant(report, { kernelSize: { size: 29, convs: 1 } }).build(1),
    /^MnistLabError: Expected a Sequential topology that tfjs can build but it refused: /,
  );

  const wrong = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 3, activation: "softmax" })],
  });
  await assert.rejects(
    lab.saveNotebookModel(wrong, runsDir),
    /Expected a model taking \[null, 28, 28, 1\] images and giving \[null, 10\] class probabilities/,
  );

  const file = path.join(runsDir, lab.NOTEBOOK_MODEL_FILE);
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"units": 10', '"units": 11'));
  await assert.rejects(
    lab.loadNotebookModel(runsDir),
    /^DamagedFileError: Expected .*notebook-model\.json to match its sha256 but its topology was changed or damaged; re-run 01_model$/,
  );
  fs.writeFileSync(file, "{");
  await assert.rejects(
    lab.loadNotebookModel(runsDir),
    /^DamagedFileError: Expected .*notebook-model\.json to be the model 01_model saved but it is not JSON/,
  );
  [functional, plain, wrong].forEach((m) => m.dispose());
  fs.rmSync(runsDir, { recursive: true, force: true });
});
