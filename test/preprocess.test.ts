import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import pl from "nodejs-polars";
import {
  formatShape,
  hasNaN,
  nanCheckLine,
  missingValueCount,
  pixelFrame,
  scaleToUnit,
  selectImages,
  gatherBatch,
  splitTrainValidation,
  toImageTensor,
  toOneHot,
  toOneHotTensor,
} from "mnist-lab";
import { tinyImages } from "./helpers/idx_fixtures";

test("nanCheckLine answers the report's np.isnan(x).any() in a sentence that counts the values", () => {
  assert.equal(
    nanCheckLine("x_train", new Uint8Array(47_040_000)),
    "np.isnan(x_train).any() is False: none of its 47,040,000 values is NaN",
  );
  assert.equal(nanCheckLine("x_test", Float32Array.of(0, NaN, NaN, 1)), "np.isnan(x_test).any() is True: 2 of its 4 values are NaN");
});

test("hasNaN finds NaN in float arrays and never in integer arrays", () => {
  assert.equal(hasNaN(Float32Array.of(0, 1, 2)), false);
  assert.equal(hasNaN(Float32Array.of(0, NaN, 2)), true);
  assert.equal(hasNaN([1, 2, NaN]), true);
  assert.equal(hasNaN(new Uint8Array(10)), false);
});

test("pixelFrame is one row per image with label and 784 pixel columns; missingValueCount counts nulls and NaNs", () => {
  const split = { images: tinyImages(3), labels: Uint8Array.of(4, 5, 6), count: 3 };
  const frame = pixelFrame(split);
  assert.deepEqual([frame.height, frame.width], [3, 785]);
  assert.deepEqual(frame.getColumn("label").toArray(), [4, 5, 6]);
  assert.equal(frame.getColumn("p5").toArray()[1], 12); // image 1, pixel 5 = 1*7 + 5
  assert.equal(missingValueCount(frame), 0);
  assert.equal(pixelFrame(split, 2).height, 2);
  const holes = pl.DataFrame({ a: [1, null, 3], b: [0.5, NaN, NaN] });
  assert.equal(missingValueCount(holes), 3);
});

test("scaleToUnit maps 0–255 to [0, 1] as x / 255", () => {
  const out = scaleToUnit(Uint8Array.of(0, 51, 255));
  assert.ok(out instanceof Float32Array);
  assert.deepEqual(Array.from(out), [0, Math.fround(0.2), 1]);
});

test("toImageTensor reshapes to [N, 28, 28, 1] and scales uint8 input", () => {
  const before = tf.memory().numTensors;
  const t = toImageTensor(tinyImages(2));
  assert.deepEqual(t.shape, [2, 28, 28, 1]);
  assert.equal(t.dtype, "float32");
  assert.ok(Math.abs(t.dataSync()[785] - 8 / 255) < 1e-7); // image 1, pixel 1 = 7 + 1
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => toImageTensor(new Uint8Array(100)), /Expected a multiple of 784 pixels \(28×28 images\) but found 100/);
});

test("toOneHot encodes like Keras to_categorical", () => {
  assert.deepEqual(Array.from(toOneHot([3], 10)), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(toOneHot([0, 2], 3)), [1, 0, 0, 0, 0, 1]);
  const t = toOneHotTensor(Uint8Array.of(1, 9));
  assert.deepEqual(t.shape, [2, 10]);
  t.dispose();
});

test("toOneHot rejects labels outside [0, numClasses) and non-integers", () => {
  assert.throws(() => toOneHot([1, 10], 10), /Expected labels to be integers in \[0, 10\) but found number 10 at index 1/);
  assert.throws(() => toOneHot([-1]), /but found number -1 at index 0/);
  assert.throws(() => toOneHot([1.5]), /but found number 1.5 at index 0/);
  assert.throws(() => toOneHot([NaN]), /but found number NaN at index 0/);
  assert.throws(() => toOneHot([1], 0), /Expected numClasses to be an integer ≥ 1 but found number 0/);
});

test("splitTrainValidation is seeded, disjoint and complete", () => {
  const a = splitTrainValidation(100, { validationFraction: 0.2, seed: 7 });
  const b = splitTrainValidation(100, { validationFraction: 0.2, seed: 7 });
  const c = splitTrainValidation(100, { validationFraction: 0.2, seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.validationIndices), Array.from(c.validationIndices));
  assert.equal(a.validationIndices.length, 20);
  const all = new Set([...a.trainIndices, ...a.validationIndices]);
  assert.equal(all.size, 100);
});

test("splitTrainValidation stratified keeps each class's share", () => {
  const labels = Uint8Array.from({ length: 200 }, (_, i) => (i < 150 ? 0 : 1)); // 150 zeros, 50 ones
  const { validationIndices } = splitTrainValidation(200, { validationFraction: 0.2, seed: 1, stratifyLabels: labels });
  const ones = Array.from(validationIndices).filter((i) => labels[i] === 1).length;
  assert.equal(validationIndices.length, 40);
  assert.equal(ones, 10);
  assert.throws(
    () => splitTrainValidation(10, { validationFraction: 1, seed: 1 }),
    /Expected validationFraction in \(0, 1\) but found number 1/,
  );
  assert.throws(
    () => splitTrainValidation(10, { validationFraction: 0.5, seed: 1, stratifyLabels: [1] }),
    /Expected 10 stratify labels but found 1/,
  );
});

test("selectImages copies the chosen images and labels, and views the first count without copying", () => {
  const split = { images: tinyImages(4), labels: Uint8Array.of(0, 1, 2, 3), count: 4 };
  const picked = selectImages(split, [3, 1]);
  assert.equal(picked.count, 2);
  assert.deepEqual(Array.from(picked.labels), [3, 1]);
  assert.deepEqual(Array.from(picked.images.subarray(0, 784)), Array.from(tinyImages(4).subarray(3 * 784, 4 * 784)));
  const first = selectImages(split, null, 2);
  assert.equal(first.count, 2);
  assert.equal(first.images.buffer, split.images.buffer, "a view, not a copy");
  assert.deepEqual(Array.from(first.labels), [0, 1]);
});

test("gatherBatch scales the chosen images by 1/255 and one-hot encodes their labels", () => {
  const split = { images: tinyImages(4), labels: Uint8Array.of(0, 1, 2, 3), count: 4 };
  const x = new Float32Array(2 * 784).fill(-1);
  const y = new Float32Array(2 * 10).fill(-1);
  gatherBatch(split, Int32Array.of(2, 0, 3), 1, 2, x, y);
  assert.deepEqual(Array.from(x.subarray(0, 784)), Array.from(scaleToUnit(tinyImages(4).subarray(0, 784))));
  assert.deepEqual(Array.from(x.subarray(784)), Array.from(scaleToUnit(tinyImages(4).subarray(3 * 784, 4 * 784))));
  assert.deepEqual(Array.from(y), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
});

test("formatShape prints shapes as Python tuples", () => {
  assert.equal(formatShape([60000, 28, 28, 1]), "(60000, 28, 28, 1)");
  assert.equal(formatShape([10000]), "(10000,)");
});
