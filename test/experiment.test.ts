import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  REPORT_CNN_DEFAULTS,
  TrainingInterrupted,
  buildReportCnn,
  experimentBase,
  modelSpecFromTopology,
  modelVariant,
  profileRunConfig,
  profileTrainConfig,
  runDirFor,
  runExperiments,
  topologySha256,
  trainModel,
  trainProfileRun,
  trainRun,
  type ExperimentConfigInput,
  type KerasTopology,
} from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(60, 1), test: syntheticDigits(30, 2) };
const quiet = () => undefined;

/** A small CNN as a notebook cell would build it, without names: tfjs numbers them anew on every build. */
function cellModel(dropout = 0.25): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 2,
      kernelSize: 5,
      activation: "relu",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  model.add(tfl.layers.maxPooling2d({ poolSize: 4 }));
  model.add(tfl.layers.dropout({ rate: dropout }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  return model;
}

const config: ExperimentConfigInput = { optimizer: "sgd", momentum: 0.9, learningRate: 0.05, epochs: 2, batchSize: 20 };

test("topologySha256 is the same for the same model built twice and differs when a layer changes", () => {
  const a = cellModel();
  const b = cellModel();
  assert.notEqual(a.layers[0].name, b.layers[0].name);
  assert.equal(topologySha256(a), topologySha256(b));
  assert.notEqual(topologySha256(cellModel(0.5)), topologySha256(a));
  assert.equal(topologySha256(buildReportCnn(TINY_MODEL)), topologySha256(buildReportCnn(TINY_MODEL)));
});

test("trainModel trains a cell's model in place with SGD + momentum, and a rebuilt identical model loads the stored run", async () => {
  const runsDir = tempDir();
  const model = cellModel();
  const before = model.getWeights().map((w) => Array.from(w.dataSync()));
  const run = await trainModel(model, config, { data, runsDir, log: quiet, name: "tiny cnn" });
  assert.equal(run.status, "trained");
  assert.equal(run.model, model);
  assert.match(run.runId, new RegExp(`^model${model.countParams()}-sgd-e2-b20-aug-asrun-s42-[0-9a-f]{8}$`));
  assert.equal(run.config.model, null);
  assert.equal(run.config.architecture?.parameters, model.countParams());
  assert.equal(run.config.momentum, 0.9);
  assert.notDeepEqual(
    model.getWeights().map((w) => Array.from(w.dataSync())),
    before,
  );
  assert.equal(run.history.length, 2);

  const again = cellModel();
  // Another label, the same model and config: the same run.
  const loaded = await trainModel(again, config, { data, runsDir, log: quiet, name: "the same cnn" });
  assert.equal(loaded.status, "loaded");
  assert.equal(loaded.runId, run.runId);
  assert.deepEqual(
    again.getWeights().map((w) => Array.from(w.dataSync())),
    model.getWeights().map((w) => Array.from(w.dataSync())),
  );

  const changed = await trainModel(cellModel(0.5), { ...config, epochs: 1 }, { data, runsDir, log: quiet, name: "tiny cnn" });
  assert.notEqual(changed.runId.split("-").pop(), run.runId.split("-").pop());
});

test("trainModel refuses a model that does not map 28×28×1 images to 10 classes", async () => {
  const wrong = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 3, activation: "softmax" })],
  });
  await assert.rejects(
    trainModel(wrong, config, { data, runsDir: tempDir(), log: quiet }),
    new RegExp(
      "^MnistLabError: Expected a model taking \\[null, 28, 28, 1\\] images and giving \\[null, 10\\] class probabilities " +
        "but found input \\[null,28,28,1\\] and output \\[null,3\\]$",
    ),
  );
});

/** cellModel as 01_model would hand it over: a saved topology that is not the report's CNN. */
function notebookModel(dropout = 0.25) {
  const model = cellModel(dropout);
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as KerasTopology;
  model.dispose();
  return { ...modelSpecFromTopology(topology), sameAsReport: false, source: "01_model" as const };
}

// The profile's size cut down to the synthetic data.
const small = { seed: 42, trainLimit: 60, validationLimit: 30, batchSize: 20 };

test("trainProfileRun trains the report's run (the CLI's id) when the notebook model is the report's CNN", async () => {
  const runsDir = tempDir();
  const overrides = { ...small, model: TINY_MODEL };
  const report = { ...notebookModel(), sameAsReport: true };
  const run = await trainProfileRun("smoke", "rmsprop", overrides, { data, runsDir, log: quiet, loadModel: false, model: report });
  assert.equal(run.status, "trained");
  assert.deepEqual(run.config.model, { ...REPORT_CNN_DEFAULTS, ...TINY_MODEL });
  assert.doesNotMatch(run.runId, /^model/);
  assert.equal(run.model, undefined);
  const again = await trainRun(profileTrainConfig("smoke", "rmsprop", overrides), { data, runsDir, log: quiet, loadModel: false });
  assert.equal(again.status, "loaded", "trainRun with the profile's config: the same run");
  assert.equal(again.runId, run.runId);
});

test("trainProfileRun trains a changed notebook model as its own run, resumable after an interrupt, loaded when finished", async () => {
  const runsDir = tempDir();
  const model = notebookModel(0.5);
  const stop = new AbortController();
  const options = { data, runsDir, log: quiet, loadModel: false, model };
  await assert.rejects(
    trainProfileRun("smoke", "adam", small, { ...options, signal: stop.signal, onEpoch: () => stop.abort() }),
    TrainingInterrupted,
  );
  const run = await trainProfileRun("smoke", "adam", small, options);
  assert.equal(run.status, "resumed");
  assert.equal(run.resumedFromEpoch, 1);
  assert.match(run.runId, /^model\d+-adam-e2-b20-aug-n60-asrun-s42-[0-9a-f]{8}$/);
  assert.equal(run.config.model, null);
  assert.equal(run.history.length, 2);
  assert.equal(run.model, undefined);
  const loaded = await trainProfileRun("smoke", "adam", small, options);
  assert.equal(loaded.status, "loaded");
  assert.equal(loaded.runId, run.runId);
  assert.equal(path.dirname(loaded.runDir), runsDir);
  const report = await trainProfileRun("smoke", "adam", { ...small, model: TINY_MODEL }, { ...options, model: undefined });
  assert.notEqual(report.runId, run.runId, "the report's run is another");
  await assert.rejects(
    trainProfileRun("smoke", "adam", { ...small, model: TINY_MODEL }, options),
    /^MnistLabError: Expected no knobs of the report's CNN for 01_model's model, which is another network for overrides\.model but found/,
  );
});

test("runExperiments builds each arm with the run's seed: a ModelSpec and its variants are arms", async () => {
  const runsDir = tempDir();
  const model = notebookModel();
  const seeds: number[] = [];
  const runs = await runExperiments(
    {
      "as saved": model,
      "dropout 0": modelVariant(model, { dropout: 0 }),
      "a builder": (seed: number) => {
        seeds.push(seed);
        return cellModel(0.1);
      },
    },
    { ...config, epochs: 1, seed: 5 },
    { data, runsDir, log: quiet },
  );
  assert.deepEqual(seeds, [5]);
  assert.deepEqual(Object.keys(runs), ["as saved", "dropout 0", "a builder"]);
  assert.equal(new Set(Object.values(runs).map((r) => r.runId)).size, 3);
  const seeded = await model.build(5);
  assert.equal(runs["as saved"].config.architecture?.sha256, topologySha256(seeded));
  seeded.dispose();
});

test("profileRunConfig names the run trainProfileRun trains, for the report's CNN and for another model", async () => {
  const runsDir = tempDir();
  // As loadMnist marks the verified MNIST files: no data fingerprint in the run's identity, as in the notebooks.
  const mnistLike = { ...data, checksums: "verified" };
  const other = notebookModel(0.5);
  const options = { data: mnistLike, runsDir, log: quiet, loadModel: false };
  const overrides = { ...small, epochs: 1 };
  const run = await trainProfileRun("smoke", "rmsprop", overrides, { ...options, model: other });
  assert.equal(run.runDir, runDirFor(await profileRunConfig("smoke", "rmsprop", overrides, other), runsDir));
  const reportOverrides = { ...overrides, model: TINY_MODEL };
  const report = await trainProfileRun("smoke", "rmsprop", reportOverrides, { ...options, model: { ...other, sameAsReport: true } });
  assert.equal(report.runDir, runDirFor(await profileRunConfig("smoke", "rmsprop", reportOverrides), runsDir));
  assert.deepEqual(await profileRunConfig("smoke", "rmsprop", reportOverrides), profileTrainConfig("smoke", "rmsprop", reportOverrides));
});

test("experimentBase refuses a bad shared setting where it is set, naming it, and returns good ones unchanged", () => {
  const base = { optimizer: "rmsprop" as const, seed: 42, epochs: 2, trainLimit: 100, validationLimit: 50 };
  assert.equal(experimentBase(base), base);
  assert.throws(
    () => experimentBase({ ...base, optimizer: "Adam" as unknown as "adam" }),
    (err: Error) => err.message === 'Expected "rmsprop", "adam", "sgd" for optimizer but found "Adam"',
  );
  assert.throws(() => experimentBase({ ...base, seed: -1 }), /: Expected an integer in \[0, 2\^32\) for seed but found number -1$/);
});
