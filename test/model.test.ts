import { test } from "node:test";
import assert from "node:assert/strict";
import { REPORT_CNN_PARAMS, buildReportCnn, initBackend, makeOptimizer, predictLean, tf, tfl } from "mnist-lab";

test("buildReportCnn has the report's 350,090 parameters and maps [N,28,28,1] to [N,10]", async () => {
  await initBackend("cpu");
  const model = buildReportCnn({ seed: 3 });
  assert.equal(model.countParams(), REPORT_CNN_PARAMS);
  assert.deepEqual(model.outputs[0].shape, [null, 10]);
  model.dispose();
});

test("buildReportCnn knobs change the architecture; the same seed gives the same weights", async () => {
  await initBackend("cpu");
  const small = buildReportCnn({ filters: 8, denseUnits: 16, seed: 1 });
  // conv 5×5×1×8+8, 5×5×8×8+8 ×2, 3×3×8×8+8 ×2, BN 4×8 ×5, dense (2×2×8)×16+16, 16×10+10
  assert.equal(small.countParams(), 208 + 1608 * 2 + 584 * 2 + 160 + 528 + 170);
  const again = buildReportCnn({ filters: 8, denseUnits: 16, seed: 1 });
  const a = small.getWeights()[0].dataSync();
  const b = again.getWeights()[0].dataSync();
  assert.deepEqual(Array.from(a), Array.from(b));
  small.dispose();
  again.dispose();
});

test("makeOptimizer builds the report's RMSprop and Adam, SGD for experiments, and rejects other names", () => {
  const rmsprop = makeOptimizer("rmsprop");
  assert.equal(rmsprop.getClassName(), "KerasRMSprop");
  assert.deepEqual(rmsprop.getConfig(), { learningRate: 0.001, rho: 0.9, epsilon: 1e-8 });
  const adam = makeOptimizer("adam");
  assert.equal(adam.getClassName(), "KerasAdam");
  assert.deepEqual(adam.getConfig(), { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  assert.equal(makeOptimizer("sgd", 0.01, { momentum: 0.9 }).getClassName(), "KerasSGD");
  assert.throws(() => makeOptimizer("nadam" as never), /Expected "rmsprop", "adam", "sgd" for optimizer but found "nadam"/);
  rmsprop.dispose();
  adam.dispose();
});

test("predictLean gives model.predict's output and leaves no activation behind", async () => {
  await initBackend("cpu");
  const model = buildReportCnn({ filters: 4, denseUnits: 8, seed: 5 });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 7);
  const expected = model.predict(x) as tf.Tensor;
  const before = tf.memory().numTensors;
  const lean = predictLean(model, x);
  assert.equal(tf.memory().numTensors, before + 1, "only the result is new");
  const [a, b] = [expected.dataSync(), lean.dataSync()];
  assert.deepEqual(lean.shape, [3, 10]);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `index ${i}: ${a[i]} vs ${b[i]}`);
  assert.equal(x.isDisposed, false, "the input stays the caller's");
  tf.dispose([x, expected, lean]);
  model.dispose();
});

test("predictLean skips an explicit InputLayer of a Sequential", async () => {
  await initBackend("cpu");
  const model = tfl.sequential();
  model.add(tfl.layers.inputLayer({ inputShape: [28, 28, 1] }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: "softmax" }));
  const x = tf.zeros([2, 28, 28, 1]);
  const out = predictLean(model, x);
  assert.deepEqual(out.shape, [2, 10]);
  tf.dispose([x, out]);
  model.dispose();
});

test("buildReportCnn initialises kernels glorot_uniform as Keras does, seeded or not (tfjs's own default is glorot_normal)", () => {
  for (const model of [buildReportCnn(), buildReportCnn({ seed: 1 })]) {
    const kernels = model.layers
      .map((l) => (l.getConfig() as { kernelInitializer?: { config: { distribution: string; mode: string } } }).kernelInitializer)
      .filter((k): k is { config: { distribution: string; mode: string } } => k !== undefined);
    assert.equal(kernels.length, 7);
    for (const k of kernels) assert.deepEqual([k.config.mode, k.config.distribution], ["fanAvg", "uniform"]);
    model.dispose();
  }
});
