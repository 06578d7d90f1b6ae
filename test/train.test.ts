import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  buildReportCnn,
  compileReportCnn,
  evaluateSplit,
  loadModelDir,
  loadRun,
  makeOptimizer,
  parseHistoryCsv,
  reseedDropout,
  Rng,
  trainRun,
  type TrainConfigInput,
  type TrainProgress,
} from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, trainStoppedAfterEpoch, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(60, 1), test: syntheticDigits(30, 2) };
const tiny = (extra: Partial<TrainConfigInput> = {}): TrainConfigInput => ({
  optimizer: "adam",
  epochs: 2,
  batchSize: 20,
  model: TINY_MODEL,
  ...extra,
});
const quiet = () => undefined;

test("trainRun trains, logs like Keras verbose=2 and writes config, history, model, best, checkpoint and metrics", async () => {
  const runsDir = tempDir();
  const lines: string[] = [];
  const progress: TrainProgress[] = [];
  const run = await trainRun(tiny(), { data, runsDir, log: (l) => lines.push(l), onProgress: (p) => progress.push(p) });
  assert.equal(run.status, "trained");
  // The as-run schedule: Keras's warning once, after the first epoch's line.
  assert.match(lines.splice(2, 1)[0], /^RuntimeWarning: Reduce LR on plateau conditioned on metric `val_acc` which is not available/);
  assert.equal(run.resumedFromEpoch, 0);
  assert.match(run.runId, /^adam-e2-b20-aug-asrun-s42-[0-9a-f]{8}$/);
  assert.equal(run.runDir, path.join(runsDir, run.runId));
  for (const f of [
    "config.json",
    "history.csv",
    "metrics.json",
    "model/model.json",
    "model/weights.bin",
    "best/model.json",
    "checkpoints/epoch-0002/state.json",
  ]) {
    assert.ok(fs.existsSync(path.join(run.runDir, f)), `${f} exists`);
  }
  // The newest two checkpoints stay, so a damaged newest one has an intact predecessor.
  assert.deepEqual(fs.readdirSync(path.join(run.runDir, "checkpoints")).sort(), ["epoch-0001", "epoch-0002"]);
  assert.equal(run.history.length, 2);
  assert.equal(lines[0], "Epoch 1/2");
  assert.match(lines[1], /^- \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/);
  assert.equal(lines[2], "Epoch 2/2");
  // 60 images in batches of 20: 3 train batches per epoch, then the validation batch.
  assert.deepEqual(
    progress.filter((p) => p.phase === "train").map((p) => `${p.epoch}:${p.batch}/${p.batches}`),
    ["1:1/3", "1:2/3", "1:3/3", "2:1/3", "2:2/3", "2:3/3"],
  );
  assert.ok(progress.some((p) => p.phase === "validate"));
  const csv = parseHistoryCsv(fs.readFileSync(path.join(run.runDir, "history.csv"), "utf8"));
  assert.deepEqual(
    csv.map((r) => r.epoch),
    [0, 1],
  );
  assert.equal(csv[1].val_loss, run.history[1].val_loss);
  const m = run.metrics;
  assert.equal(m.epochsCompleted, 2);
  assert.equal(m.valAccuracy, run.history[1].val_accuracy);
  assert.equal(m.trainCount, 60);
  assert.equal(m.validationCount, 30);
  assert.deepEqual(m.backends, ["cpu"]);
  assert.ok(m.secondsPerEpoch > 0);
  // The stored model is the trained one.
  assert.ok(run.model);
  const stored = await loadModelDir(path.join(run.runDir, "model"));
  const x = tf.tensor4d(
    Float32Array.from(data.test.images.subarray(0, 784 * 4), (v) => v / 255),
    [4, 28, 28, 1],
  );
  const a = run.model.predict(x) as tf.Tensor;
  const b = stored.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([x, a, b]);
  stored.dispose();
  run.model.dispose();
});

test("trainRun loads a finished run instead of retraining, and retrain trains again", async () => {
  const runsDir = tempDir();
  const first = await trainRun(tiny({ epochs: 1 }), { data, runsDir, log: quiet, loadModel: false });
  const lines: string[] = [];
  const again = await trainRun(tiny({ epochs: 1 }), { data, runsDir, log: (l) => lines.push(l) });
  assert.equal(again.status, "loaded");
  assert.equal(again.resumedFromEpoch, 1);
  assert.deepEqual(again.history, first.history);
  assert.deepEqual(again.metrics, first.metrics);
  assert.match(lines[0], /is finished \(1 epochs\): loaded from/);
  assert.ok(again.model);
  again.model.dispose();
  const retrained = await trainRun(tiny({ epochs: 1 }), { data, runsDir, log: quiet, retrain: true, loadModel: false });
  assert.equal(retrained.status, "trained");
  assert.notEqual(retrained.metrics.finishedAt, first.metrics.finishedAt);
  assert.equal(retrained.history[0].loss, first.history[0].loss);
});

test("trainRun same seed gives the same first-epoch loss, another seed another", async () => {
  const losses: number[] = [];
  for (const seed of [7, 7, 8]) {
    const run = await trainRun(tiny({ epochs: 1, seed }), { data, runsDir: tempDir(), log: quiet, loadModel: false });
    losses.push(run.history[0].loss);
  }
  assert.equal(losses[0], losses[1]);
  assert.notEqual(losses[0], losses[2]);
});

test("trainRun resumed after an interrupted run ends with the history of an uninterrupted one", async () => {
  const config = tiny({ epochs: 3, optimizer: "rmsprop" });
  const straight = await trainRun(config, { data, runsDir: tempDir(), log: quiet, loadModel: false });
  const runsDir = tempDir();
  await trainStoppedAfterEpoch(1, config, { data, runsDir, log: quiet });
  const runDir = path.join(runsDir, straight.runId);
  assert.ok(!fs.existsSync(path.join(runDir, "metrics.json")));
  assert.equal(loadRun(runDir).history.length, 1);
  const lines: string[] = [];
  const resumed = await trainRun(config, { data, runsDir, log: (l) => lines.push(l), loadModel: false });
  assert.equal(resumed.status, "resumed");
  assert.equal(resumed.resumedFromEpoch, 1);
  assert.match(lines[0], /^Resuming run .* after epoch 1\/3/);
  assert.equal(lines[1], "Epoch 2/3");
  const strip = (h: Array<Record<string, number>>) => h.map(({ epoch_seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(resumed.history), strip(straight.history));
  assert.deepEqual(strip(loadRun(runDir).history), strip(straight.history));
});

test("trainRun restores ReduceLROnPlateau's state and the reduced learning rate on resume", async () => {
  // minDelta 1 makes every epoch a plateau: with patience 1 the rate halves after every epoch.
  const config = tiny({ epochs: 3, schedule: "as-intended", reduceLr: { patience: 1, minDelta: 1 } });
  const runsDir = tempDir();
  await trainStoppedAfterEpoch(2, config, { data, runsDir, log: quiet });
  const lines: string[] = [];
  const run = await trainRun(config, { data, runsDir, log: (l) => lines.push(l), loadModel: false });
  const half = 0.0005000000237487257;
  assert.deepEqual(
    run.history.map((h) => h.lr),
    [0.001, 0.001, half],
  );
  assert.ok(lines.includes("Epoch 00003: ReduceLROnPlateau reducing learning rate to 0.0002500000118743628."), lines.join("\n"));
  assert.equal(run.metrics.finalLearningRate, half);
});

test("trainRun leaks no tensors", async () => {
  const before = tf.memory().numTensors;
  await trainRun(tiny({ epochs: 2, optimizer: "rmsprop" }), { data, runsDir: tempDir(), log: quiet, loadModel: false });
  assert.equal(tf.memory().numTensors, before);
});

test("trainRun with validation 'split' validates on a stratified held-out part of the training images", async () => {
  // 50 images, 5 per class: a fraction of 0.2 holds out exactly one image of each class.
  const config = tiny({ epochs: 1, validation: "split", validationFraction: 0.2, trainLimit: 50, augment: false });
  const run = await trainRun(config, { data, runsDir: tempDir(), log: quiet, loadModel: false });
  assert.equal(run.metrics.trainCount, 40);
  assert.equal(run.metrics.validationCount, 10);
  assert.match(run.runId, /-noaug-n50-/);
});

test("trainRun stops early with EarlyStopping and still finishes the run", async () => {
  const run = await trainRun(tiny({ epochs: 5, earlyStopping: { monitor: "val_loss", patience: 0, minDelta: 100 } }), {
    data,
    runsDir: tempDir(),
    log: quiet,
    loadModel: false,
  });
  assert.equal(run.metrics.epochsCompleted, 2);
  assert.equal(run.metrics.stoppedEarly, true);
});

test("trainRun rejects an unknown backend, naming the known ones", async () => {
  await assert.rejects(
    trainRun(tiny(), { data, runsDir: tempDir(), log: quiet, backend: "nope" }),
    /Expected a backend among auto, .*cpu.* but found "nope"/,
  );
  assert.equal(tf.getBackend(), "cpu");
});

test("evaluateSplit gives the loss and accuracy of tfjs's model.evaluate", async () => {
  const model = buildReportCnn({ ...TINY_MODEL, seed: 3 });
  compileReportCnn(model, makeOptimizer("adam"));
  const x = tf.tensor4d(
    Float32Array.from(data.test.images, (v) => v / 255),
    [30, 28, 28, 1],
  );
  const y = tf.cast(tf.oneHot(tf.tensor1d(Array.from(data.test.labels), "int32"), 10), "float32");
  const [loss, acc] = (model.evaluate(x, y, { batchSize: 7 }) as tf.Scalar[]).map((t) => t.dataSync()[0]);
  const ours = await evaluateSplit(model, data.test, { batchSize: 7 });
  assert.ok(Math.abs(ours.loss - loss) < 1e-5, `${ours.loss} vs ${loss}`);
  assert.ok(Math.abs(ours.accuracy - acc) < 1e-6, `${ours.accuracy} vs ${acc}`);
  assert.equal(ours.count, 30);
  tf.dispose([x, y]);
  model.dispose();
});

test("reseedDropout gives new dropout masks every batch that repeat for the same seed", () => {
  const model = buildReportCnn({ ...TINY_MODEL, seed: 1, denseDropout: 0.5 });
  const x = tf.tensor4d(
    Float32Array.from(data.test.images.subarray(0, 784 * 2), (v) => v / 255),
    [2, 28, 28, 1],
  );
  const outputs = (rng: Rng) =>
    [0, 1].map(() => {
      reseedDropout(model, rng);
      return tf.tidy(() => Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync()));
    });
  const [a1, a2] = outputs(new Rng(5));
  const [b1, b2] = outputs(new Rng(5));
  assert.notDeepEqual(a1, a2, "a new mask for the next batch");
  assert.deepEqual([b1, b2], [a1, a2], "the same masks for the same seed");
  x.dispose();
  model.dispose();
});

test("trainRun refuses a backend that cannot train convolutions, naming it and what to do", async () => {
  const data = { train: syntheticDigits(20, 1), test: syntheticDigits(10, 2) };
  await assert.rejects(
    trainRun(tiny({ epochs: 1 }), { data, runsDir: tempDir(), log: () => {}, backend: "wasm" }),
    /Expected a tfjs backend that can train convolutions \(onednn, tensorflow or cpu\) but the active one is wasm/,
  );
  await useCpuBackend();
});

test("trainRun refuses a trainLimit or validationLimit beyond the images given, before writing anything", async () => {
  const runsDir = tempDir();
  await assert.rejects(
    trainRun(tiny({ trainLimit: 61 }), { data, runsDir, log: quiet }),
    /Expected at most 60 \(the training images given\) for trainLimit but found number 61/,
  );
  await assert.rejects(
    trainRun(tiny({ validationLimit: 31 }), { data, runsDir, log: quiet }),
    /Expected at most 30 \(the test images given\) for validationLimit but found number 31/,
  );
  assert.deepEqual(fs.readdirSync(runsDir), []);
});
