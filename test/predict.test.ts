// predict.ts: the one scoring path (predictClasses, evaluateModel, confusionMatrix) against tfjs's own model.predict/evaluate.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  Rng,
  buildReportCnn,
  compileReportCnn,
  confusionMatrix,
  evaluateModel,
  initBackend,
  makeOptimizer,
  predictClasses,
  toImageTensor,
  toOneHotTensor,
} from "mnist-lab";

before(async () => {
  await initBackend("cpu");
});

/** Seeded random uint8 images and labels 0–9. */
function randomSplit(count: number, seed: number): { images: Uint8Array; labels: Uint8Array; count: number } {
  const rng = new Rng(seed);
  return {
    images: Uint8Array.from({ length: count * 784 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: count }, () => rng.int(10)),
    count,
  };
}

/** A 2-filter report CNN: predicts in milliseconds on the cpu backend (but, untrained, mostly one class). */
function tinyModel(seed = 1): tfl.Sequential {
  return buildReportCnn({ filters: 2, denseUnits: 8, seed });
}

/** Softmax regression with large random weights, so random images get varied classes (argmax checks mean something). */
function linearModel(seed: number): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(
    tfl.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tfl.initializers.randomNormal({ stddev: 0.2, seed }) }),
  );
  return model;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance))
      assert.fail(`index ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
  }
}

test("confusionMatrix counts rows = true labels, columns = predictions", () => {
  // Hand-counted: class 0 → {0, 1}; class 1 → {1, 1}; class 2 → {2, 0, 1}.
  assert.deepEqual(confusionMatrix([0, 0, 1, 1, 2, 2, 2], [0, 1, 1, 1, 2, 0, 1], 3), [
    [1, 1, 0],
    [0, 2, 0],
    [1, 1, 1],
  ]);
  assert.deepEqual(confusionMatrix([0, 1, 1], [0, 1, 0], 2), [
    [1, 0],
    [1, 1],
  ]); // the JSDoc example
  const empty = confusionMatrix([], []);
  assert.equal(empty.length, 10);
  assert.ok(empty.every((row) => row.length === 10 && row.every((v) => v === 0)));
});

test("confusionMatrix matches tf.math.confusionMatrix on 500 random labels", () => {
  const rng = new Rng(7);
  const truth = Int32Array.from({ length: 500 }, () => rng.int(10));
  const predicted = Int32Array.from({ length: 500 }, () => rng.int(10));
  const reference = tf.tidy(() => tf.math.confusionMatrix(tf.tensor1d(truth, "int32"), tf.tensor1d(predicted, "int32"), 10).arraySync());
  assert.deepEqual(confusionMatrix(truth, predicted), reference);
});

test("confusionMatrix rejects mismatched lengths, out-of-range and non-integer labels, naming the index", () => {
  assert.throws(() => confusionMatrix([0, 1, 2], [0, 1]), /Expected as many predicted labels as true labels \(3\) but found 2/);
  assert.throws(() => confusionMatrix([0, 10], [0, 1]), /Expected true labels to be integers in \[0, 10\) but found number 10 at index 1/);
  assert.throws(
    () => confusionMatrix([0, 1], [0, -1]),
    /Expected predicted labels to be integers in \[0, 10\) but found number -1 at index 1/,
  );
  assert.throws(() => confusionMatrix([0.5], [0]), /found number 0.5 at index 0/);
  assert.throws(() => confusionMatrix([NaN], [0]), /found number NaN at index 0/);
  assert.throws(() => confusionMatrix([0], [0], 0), /Expected an integer ≥ 1 for numClasses but found number 0/);
});

test("predictClasses matches model.predict's argmax across uneven batches and leaks no tensors", async () => {
  const model = linearModel(2);
  const { images } = randomSplit(7, 3);
  const x = toImageTensor(images);
  const reference = model.predict(x) as tf.Tensor;
  const expectedProbs = reference.dataSync().slice();
  const expectedClasses = tf.tidy(() => tf.argMax(reference, -1).dataSync().slice());
  tf.dispose([reference]);

  const before = tf.memory().numTensors;
  const fromBytes = await predictClasses(model, images, { batchSize: 3 });
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  assert.equal(fromBytes.count, 7);
  assert.equal(fromBytes.numClasses, 10);
  assertClose(fromBytes.probabilities, expectedProbs, 1e-6);
  assert.deepEqual(Array.from(fromBytes.classes), Array.from(expectedClasses));
  assert.ok(new Set(fromBytes.classes).size >= 3, "the fixture predicts varied classes");
  for (let i = 0; i < 7; i++) assert.equal(fromBytes.confidence[i], fromBytes.probabilities[i * 10 + fromBytes.classes[i]]);

  const fromTensor = await predictClasses(model, x, { batchSize: 4 });
  assert.equal(tf.memory().numTensors, before);
  assertClose(fromTensor.probabilities, expectedProbs, 1e-6);
  x.dispose();
});

test("predictClasses runs the report's CNN in inference mode (dropout off: repeated calls agree)", async () => {
  const model = tinyModel();
  const { images } = randomSplit(5, 4);
  const before = tf.memory().numTensors;
  const [first, second] = [await predictClasses(model, images, { batchSize: 2 }), await predictClasses(model, images)];
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Array.from(first.probabilities), Array.from(second.probabilities));
  assert.ok(
    first.confidence.every((p) => p >= 0.1 && p <= 1),
    "the max of 10 probabilities is at least 1/10",
  );
});

test("predictClasses rejects bad images, batch sizes and model outputs", async () => {
  const model = tinyModel();
  await assert.rejects(
    predictClasses(model, new Uint8Array(100)),
    /Expected a Uint8Array or Float32Array of a multiple of 784 pixels for images but found a Uint8Array of length 100/,
  );
  await assert.rejects(
    predictClasses(model, new Uint8Array(784), { batchSize: 0 }),
    /Expected an integer ≥ 1 for batchSize but found number 0/,
  );
  const before = tf.memory().numTensors;
  const flat = { predict: (x: tf.Tensor) => tf.zeros([x.shape[0]]) };
  await assert.rejects(
    predictClasses(flat, new Uint8Array(784 * 2)),
    /Expected model.predict to return probabilities of shape \[2, classes\] but found \[2\]/,
  );
  assert.equal(tf.memory().numTensors, before, "the bad output is disposed too");
});

test("evaluateModel's accuracy, loss and confusion agree with tfjs's model.evaluate", async () => {
  const model = linearModel(5);
  compileReportCnn(model, makeOptimizer("adam"));
  const split = randomSplit(12, 11);
  const before = tf.memory().numTensors;
  const result = await evaluateModel(model, split, { batchSize: 5 });
  assert.equal(tf.memory().numTensors, before);

  const [x, y] = [toImageTensor(split.images), toOneHotTensor(split.labels)];
  const [lossT, accT] = model.evaluate(x, y, { batchSize: 12 }) as tf.Scalar[];
  const [loss, acc] = [lossT.dataSync()[0], accT.dataSync()[0]];
  tf.dispose([x, y, lossT, accT]);

  assert.equal(result.count, 12);
  assert.ok(result.accuracy > 0 && result.accuracy < 1, `a fixture with both hits and misses (accuracy ${result.accuracy})`);
  assert.ok(Math.abs(result.loss - loss) < 1e-5, `loss ${result.loss} vs tfjs ${loss}`);
  assert.ok(Math.abs(result.accuracy - acc) < 1e-6, `accuracy ${result.accuracy} vs tfjs ${acc}`);
  assert.deepEqual(result.confusion, confusionMatrix(split.labels, result.predictions.classes));
  const diagonal = result.confusion.reduce((s, row, i) => s + row[i], 0);
  assert.equal(diagonal / 12, result.accuracy);
  assert.equal(
    result.confusion.flat().reduce((s, v) => s + v, 0),
    12,
  );
});

test("evaluateModel rejects a split whose labels do not match its count", async () => {
  const split = randomSplit(3, 1);
  await assert.rejects(evaluateModel(tinyModel(), { ...split, count: 4 }), /Expected 4 labels \(split.count\) but found 3/);
});
