import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  BestModelCheckpoint,
  CsvLogger,
  EarlyStopping,
  EpochLogger,
  REPORT_REDUCE_LR,
  ReduceLROnPlateau,
  formatEpochLine,
  getLearningRate,
  loadModelDir,
  makeOptimizer,
  monitorValue,
  setLearningRate,
  type OptimizerName,
} from "mnist-lab";
import { tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

/** One optimizer step on x = [1, −2, 3] with loss Σ g·x (gradient g); returns the change of x. */
function step(optimizer: tf.Optimizer, x: tf.Variable, g: number[]): number[] {
  const before = Array.from(x.dataSync());
  optimizer.minimize(() => tf.sum(tf.mul(x, tf.tensor1d(g))) as tf.Scalar);
  return Array.from(x.dataSync()).map((v, i) => v - before[i]);
}

const G = [0.5, -2, 4];

for (const name of ["rmsprop", "adam"] as OptimizerName[]) {
  test(`setLearningRate halves the step ${name} applies`, () => {
    const lr = 0.01;
    const xa = tf.variable(tf.tensor1d([1, -2, 3]));
    const xb = tf.variable(tf.tensor1d([1, -2, 3]));
    const a = makeOptimizer(name, lr);
    const b = makeOptimizer(name, lr);
    setLearningRate(b, lr / 2);
    assert.equal(getLearningRate(b), lr / 2);
    const da = step(a, xa, G);
    const db = step(b, xb, G);
    for (let i = 0; i < G.length; i++) {
      assert.ok(Math.abs(db[i] - da[i] / 2) < 1e-6, `first step ${i}: ${db[i]} vs ${da[i]} / 2`);
      if (name === "adam") assert.ok(Math.abs(Math.abs(da[i]) - lr) < 1e-6, `Adam's first step is ±lr, found ${da[i]}`);
      else assert.ok(Math.abs(Math.abs(da[i]) - lr / Math.sqrt(0.1)) < 1e-5, `RMSprop's first step is lr/√(1−ρ), found ${da[i]}`);
    }
    // Mid-training: same state, then one of them halves its rate: the next step halves too.
    const a2 = makeOptimizer(name, lr);
    const b2 = makeOptimizer(name, lr);
    const ya = tf.variable(tf.tensor1d([1, -2, 3]));
    const yb = tf.variable(tf.tensor1d([1, -2, 3]));
    step(a2, ya, G);
    step(b2, yb, G);
    setLearningRate(b2, lr / 2);
    const sa = step(a2, ya, [1, 1, -1]);
    const sb = step(b2, yb, [1, 1, -1]);
    for (let i = 0; i < G.length; i++) assert.ok(Math.abs(sb[i] - sa[i] / 2) < 1e-6, `second step ${i}: ${sb[i]} vs ${sa[i]} / 2`);
    tf.dispose([xa, xb, ya, yb]);
    [a, b, a2, b2].forEach((o) => o.dispose());
  });
}

test("setLearningRate rejects rates that are not positive numbers", () => {
  const o = makeOptimizer("adam");
  assert.throws(() => setLearningRate(o, 0), /Expected a finite number > 0 for learning rate but found number 0/);
  assert.throws(() => setLearningRate(o, Number.NaN), /but found number NaN/);
  o.dispose();
});

/** A compiled one-layer model, enough for callbacks that read the optimizer or save the model. */
function tinyModel(lr = 0.001): tfl.LayersModel {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3], activation: "softmax" })] });
  model.compile({ optimizer: makeOptimizer("rmsprop", lr), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

async function feed(cb: tfl.Callback, model: tfl.LayersModel, values: Array<Record<string, number>>): Promise<void> {
  cb.setModel(model);
  await cb.onTrainBegin();
  for (let e = 0; e < values.length; e++) {
    await cb.onEpochBegin(e);
    await cb.onEpochEnd(e, values[e]);
    if (model.stopTraining) break;
  }
  await cb.onTrainEnd();
}

test("ReduceLROnPlateau halves the rate after 3 epochs without improvement and prints Keras's message", async () => {
  const lines: string[] = [];
  const model = tinyModel(0.001);
  // The report's settings monitoring what its logs called the metric (the as-intended schedule).
  const cb = new ReduceLROnPlateau({ ...REPORT_REDUCE_LR, monitor: "val_accuracy", log: (l) => lines.push(l) });
  const acc = [0.88, 0.99, 0.99, 0.98, 0.99, 0.99, 0.98, 0.985, 0.97, 0.99];
  const rates: number[] = [];
  cb.setModel(model);
  await cb.onTrainBegin();
  for (let e = 0; e < acc.length; e++) {
    await cb.onEpochEnd(e, { val_accuracy: acc[e], val_loss: 0.1 });
    rates.push(getLearningRate(model.optimizer));
  }
  // Best 0.99 at epoch 2; epochs 3, 4, 5 do not beat it by 1e-4 → reduce at the end of epoch 5 (0-based 4).
  // Keras halves the float32 rate read back as a double, and prints that double.
  const half = 0.0005000000237487257;
  const quarter = 0.0002500000118743628;
  assert.deepEqual(rates, [0.001, 0.001, 0.001, 0.001, half, half, half, quarter, quarter, quarter]);
  assert.deepEqual(lines, [
    "Epoch 00005: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.",
    "Epoch 00008: ReduceLROnPlateau reducing learning rate to 0.0002500000118743628.",
  ]);
  model.dispose();
});

test("ReduceLROnPlateau stops at minLr, waits out the cooldown, honours minDelta and mode min", async () => {
  const model = tinyModel(0.001);
  const lines: string[] = [];
  const cb = new ReduceLROnPlateau({
    monitor: "val_loss",
    patience: 1,
    factor: 0.1,
    minLr: 2e-5,
    cooldown: 2,
    minDelta: 0.01,
    verbose: 1,
    log: (l) => lines.push(l),
  });
  assert.equal(cb.mode, "min");
  // 0.995 and 0.99 gain less than minDelta 0.01 on the best (1); 0.95 … 0.8 gain more.
  const losses = [1, 0.995, 0.99, 0.95, 0.9, 0.85, 0.8, 0.8, 0.8];
  const rates: number[] = [];
  cb.setModel(model);
  await cb.onTrainBegin();
  for (let e = 0; e < losses.length; e++) {
    await cb.onEpochEnd(e, { val_loss: losses[e] });
    rates.push(Number(getLearningRate(model.optimizer).toPrecision(6)));
  }
  // Reduce after epoch 1; epoch 2 (no gain) falls in the cooldown, so no second reduction; the next
  // plateau (epoch 7) reduces to 1e-5, clipped to minLr 2e-5; epoch 8 is in the cooldown again.
  assert.deepEqual(rates, [0.001, 0.0001, 0.0001, 0.0001, 0.0001, 0.0001, 0.0001, 0.00002, 0.00002]);
  assert.deepEqual(lines, [
    "Epoch 00002: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513.",
    "Epoch 00008: ReduceLROnPlateau reducing learning rate to 0.00002.",
  ]);
  const m2 = tinyModel(3e-5);
  const floor = new ReduceLROnPlateau({ monitor: "val_loss", patience: 1, factor: 0.1, minLr: 2e-5 });
  await feed(floor, m2, [{ val_loss: 1 }, { val_loss: 1 }, { val_loss: 1 }, { val_loss: 1 }]);
  assert.equal(getLearningRate(m2.optimizer), 2e-5);
  assert.throws(
    () => new ReduceLROnPlateau({ factor: 1 }),
    /Expected a number in \(0, 1\) for ReduceLROnPlateau factor but found number 1/,
  );
  assert.throws(() => new ReduceLROnPlateau({ mode: "up" as "min" }), /Expected "auto", "min" or "max" for mode but found "up"/);
  model.dispose();
  m2.dispose();
});

test("ReduceLROnPlateau looks its monitor up by exact name as Keras 2.3, and state round-trips", async () => {
  assert.equal(monitorValue({ val_acc: 0.5 }, "val_accuracy"), undefined);
  assert.equal(monitorValue({ val_accuracy: 0.25 }, "val_acc"), undefined);
  assert.equal(monitorValue({ val_accuracy: 0.25 }, "val_accuracy"), 0.25);
  const model = tinyModel(0.001);
  const cb = new ReduceLROnPlateau({ monitor: "val_accuracy", patience: 2, factor: 0.5 });
  await feed(cb, model, [{ val_accuracy: 0.9 }, { val_accuracy: 0.8 }]);
  assert.equal(cb.wait, 1);
  assert.equal(cb.best, 0.9);
  const state = JSON.parse(JSON.stringify(cb.getState()));
  const resumed = new ReduceLROnPlateau({ monitor: "val_accuracy", patience: 2, factor: 0.5 });
  resumed.setModel(model);
  await resumed.onTrainBegin();
  resumed.setState(state);
  await resumed.onEpochEnd(2, { val_accuracy: 0.85 });
  assert.equal(getLearningRate(model.optimizer), 0.0005000000237487257);
  // A fresh (infinite) best survives JSON too.
  const fresh = new ReduceLROnPlateau({ monitor: "val_loss" });
  const copy = new ReduceLROnPlateau({ monitor: "val_loss" });
  copy.setState(JSON.parse(JSON.stringify(fresh.getState())));
  assert.equal(copy.best, Infinity);
  model.dispose();
});

test("ReduceLROnPlateau works as a callback of tfjs model.fit", async () => {
  const model = tinyModel(0.01);
  // tfjs's fit names the metric val_acc.
  const cb = new ReduceLROnPlateau({ monitor: "val_acc", patience: 1, factor: 0.5, minDelta: 1 });
  const x = tf.tensor2d([
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 0],
  ]);
  const y = tf.tensor2d([
    [1, 0],
    [0, 1],
    [1, 0],
    [0, 1],
  ]);
  // minDelta 1 makes every epoch after the first a plateau: the rate halves each epoch from epoch 2.
  await model.fit(x, y, { epochs: 3, validationData: [x, y], callbacks: [cb], verbose: 0 });
  assert.equal(getLearningRate(model.optimizer), Math.fround(Math.fround(0.01) * 0.5) * 0.5);
  tf.dispose([x, y]);
  model.dispose();
});

test("EarlyStopping stops after patience epochs without improvement and says so", async () => {
  const lines: string[] = [];
  const model = tinyModel();
  const cb = new EarlyStopping({ monitor: "val_loss", patience: 2, verbose: 1, log: (l) => lines.push(l) });
  const losses = [0.5, 0.4, 0.45, 0.41, 0.3];
  cb.setModel(model);
  await cb.onTrainBegin();
  let stoppedAfter = -1;
  for (let e = 0; e < losses.length && stoppedAfter < 0; e++) {
    await cb.onEpochEnd(e, { val_loss: losses[e] });
    if (model.stopTraining) stoppedAfter = e;
  }
  await cb.onTrainEnd();
  assert.equal(stoppedAfter, 3);
  assert.equal(cb.bestEpoch, 1);
  assert.deepEqual(lines, ["Epoch 4: early stopping"]);
  model.dispose();
});

test("EarlyStopping with a baseline stops when the baseline is never beaten", async () => {
  const model = tinyModel();
  const cb = new EarlyStopping({ monitor: "val_accuracy", patience: 2, baseline: 0.9 });
  await feed(cb, model, [{ val_accuracy: 0.5 }, { val_accuracy: 0.5 }, { val_accuracy: 0.5 }]);
  // Without the baseline the first epoch resets the wait and the stop comes one epoch later.
  assert.equal(cb.stoppedEpoch, 1);
  const m2 = tinyModel();
  const plain = new EarlyStopping({ monitor: "val_accuracy", patience: 2 });
  await feed(plain, m2, [{ val_accuracy: 0.5 }, { val_accuracy: 0.5 }, { val_accuracy: 0.5 }]);
  assert.equal(plain.stoppedEpoch, 2);
  m2.dispose();
  model.dispose();
});

test("BestModelCheckpoint saves the model only when the monitor improves", async () => {
  const dir = path.join(tempDir(), "best");
  const lines: string[] = [];
  const model = tinyModel();
  const cb = new BestModelCheckpoint({ dir, monitor: "val_accuracy", verbose: 1, log: (l) => lines.push(l) });
  cb.setModel(model);
  await cb.onTrainBegin();
  await cb.onEpochEnd(0, { val_accuracy: 0.5 });
  const saved = (await loadModelDir(dir)).getWeights().map((w) => Array.from(w.dataSync()));
  model.setWeights(model.getWeights().map((w) => tf.add(w, 1)));
  await cb.onEpochEnd(1, { val_accuracy: 0.4 });
  const still = await loadModelDir(dir);
  assert.deepEqual(
    still.getWeights().map((w) => Array.from(w.dataSync())),
    saved,
  );
  await cb.onEpochEnd(2, { val_accuracy: 0.7 });
  const updated = await loadModelDir(dir);
  assert.deepEqual(
    updated.getWeights().map((w) => Array.from(w.dataSync())),
    model.getWeights().map((w) => Array.from(w.dataSync())),
  );
  assert.equal(cb.bestEpoch, 2);
  assert.deepEqual(lines, [
    `Epoch 1: val_accuracy improved from -Infinity to 0.50000, saving model to ${dir}`,
    "Epoch 2: val_accuracy did not improve from 0.50000",
    `Epoch 3: val_accuracy improved from 0.50000 to 0.70000, saving model to ${dir}`,
  ]);
  [model, still, updated].forEach((m) => m.dispose());
});

test("CsvLogger writes Keras's header and one row per epoch, also when an epoch is redone", async () => {
  const file = path.join(tempDir(), "history.csv");
  const model = tinyModel();
  const cb = new CsvLogger({ file });
  await feed(cb, model, [
    { loss: 0.5, accuracy: 0.8, lr: 0.001 },
    { loss: 0.25, accuracy: 0.9, lr: 0.001 },
  ]);
  assert.equal(fs.readFileSync(file, "utf8"), "epoch,accuracy,loss,lr\n0,0.8,0.5,0.001\n1,0.9,0.25,0.001\n");
  // A resumed run restores rows of epoch 0 only and redoes epoch 1.
  const again = new CsvLogger({ file });
  again.setState({ rows: [{ epoch: 0, loss: 0.5, accuracy: 0.8, lr: 0.001 }] });
  again.setModel(model);
  await again.onEpochEnd(1, { loss: 0.2, accuracy: 0.95, lr: 0.001 });
  assert.equal(fs.readFileSync(file, "utf8"), "epoch,accuracy,loss,lr\n0,0.8,0.5,0.001\n1,0.95,0.2,0.001\n");
  model.dispose();
});

test("formatEpochLine prints the report's verbose=2 line", () => {
  assert.equal(
    formatEpochLine(173.2, { loss: 0.368, accuracy: 0.8847, val_loss: 0.4336, val_accuracy: 0.8721, lr: 0.001 }),
    "- 173s - loss: 0.3680 - accuracy: 0.8847 - val_loss: 0.4336 - val_accuracy: 0.8721 - lr: 0.001",
  );
  assert.equal(
    formatEpochLine(2, { val_accuracy: 0.99, loss: 0.00012, lr: 0.0005 }),
    "- 2s - loss: 1.2000e-04 - val_accuracy: 0.9900 - lr: 0.0005",
  );
});

test("EpochLogger prints Epoch n/N then the metrics line", async () => {
  const lines: string[] = [];
  const model = tinyModel();
  const cb = new EpochLogger({ log: (l) => lines.push(l), epochs: 40 });
  await feed(cb, model, [{ loss: 0.1126, accuracy: 0.9658, val_loss: 0.0865, val_accuracy: 0.9756, lr: 0.001, epoch_seconds: 213 }]);
  assert.deepEqual(lines, ["Epoch 1/40", "- 213s - loss: 0.1126 - accuracy: 0.9658 - val_loss: 0.0865 - val_accuracy: 0.9756"]);
  const withRate: string[] = [];
  await feed(new EpochLogger({ log: (l) => withRate.push(l), epochs: 40, showLearningRate: true }), model, [
    { loss: 0.1, lr: 0.0005000000237487257, epoch_seconds: 1 },
  ]);
  assert.equal(withRate[1], "- 1s - loss: 0.1000 - lr: 0.0005");
  model.dispose();
});

test("ReduceLROnPlateau as the report wrote it (monitor val_acc) warns once and never changes the rate, as Keras 2.3 did", async () => {
  const model = tinyModel(0.001);
  const lines: string[] = [];
  const cb = new ReduceLROnPlateau({ ...REPORT_REDUCE_LR, log: (l) => lines.push(l) });
  // The report's RMSprop epochs 1–6: no gain at 3, 4, 5, which would have reduced the rate after epoch 5.
  const acc = [0.8721, 0.9916, 0.9916, 0.9904, 0.99, 0.9929];
  await feed(
    cb,
    model,
    acc.map((a) => ({ loss: 0.1, accuracy: 0.9, val_loss: 0.03, val_accuracy: a, lr: 0.001 })),
  );
  assert.equal(getLearningRate(model.optimizer), 0.001);
  assert.deepEqual(lines, [
    "RuntimeWarning: Reduce LR on plateau conditioned on metric `val_acc` which is not available. " +
      "Available metrics are: val_loss,val_accuracy,loss,accuracy,lr",
  ]);
  model.dispose();
});

test("ReduceLROnPlateau at the report's floor (1e-5) reduces once and then stays silent, as Keras", async () => {
  const model = tinyModel(1.5625e-5);
  const lines: string[] = [];
  const cb = new ReduceLROnPlateau({ ...REPORT_REDUCE_LR, monitor: "val_accuracy", patience: 1, log: (l) => lines.push(l) });
  await feed(cb, model, [{ val_accuracy: 0.99 }, { val_accuracy: 0.99 }, { val_accuracy: 0.99 }, { val_accuracy: 0.99 }]);
  assert.equal(getLearningRate(model.optimizer), 1e-5);
  assert.deepEqual(lines, ["Epoch 00002: ReduceLROnPlateau reducing learning rate to 0.00001."]);
  model.dispose();
});
