// loss.ts: Keras 2.3.1's categorical cross-entropy as its TensorFlow backend computed it — from a softmax's logits,
// unclipped — against the clipped form tfjs uses, in training (trainOnBatch) and in evaluation (evaluateModel).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { compileReportCnn, evaluateModel, initBackend, kerasCategoricalCrossentropy, makeOptimizer, recordSoftmaxLogits } from "mnist-lab";

before(async () => {
  await initBackend("cpu");
});

/**
 * Softmax regression on 28×28 images whose first pixel alone decides the logits: an image with that pixel at 255
 * gets logit 30 for class 0 and 0 for the others, so a label 1 is a confidently wrong sample.
 */
function confidentlyWrongModel(): tfl.Sequential {
  const model = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10, activation: "softmax" })],
  });
  const kernel = new Float32Array(784 * 10);
  kernel[0] = 30;
  model.layers[1].setWeights([tf.tensor2d(kernel, [784, 10]), tf.zeros([10])]);
  return model;
}

function oneImage(): { images: Uint8Array; labels: Uint8Array; count: number } {
  const images = new Uint8Array(784);
  images[0] = 255;
  return { images, labels: Uint8Array.of(1), count: 1 };
}

const FROM_LOGITS = 30 + Math.log(1 + 9 * Math.exp(-30));
const CLIPPED = -Math.log(1e-7);

test("kerasCategoricalCrossentropy from-logits costs a confidently wrong sample its logit gap (≈ 30.0), clipped costs 16.118", () => {
  for (const [loss, expected] of [
    ["from-logits", FROM_LOGITS],
    ["clipped", CLIPPED],
  ] as const) {
    const model = confidentlyWrongModel();
    recordSoftmaxLogits(model);
    const value = tf.tidy(() => {
      const x = tf.tensor4d(
        Float32Array.from(oneImage().images, (v) => v / 255),
        [1, 28, 28, 1],
      );
      const yPred = model.apply(x, { training: false }) as tf.Tensor;
      return kerasCategoricalCrossentropy(loss)(tf.cast(tf.oneHot([1], 10), "float32"), yPred).dataSync()[0];
    });
    assert.ok(Math.abs(value - expected) < 1e-4 * expected, `${loss}: expected ${expected} but found ${value}`);
  }
  assert.equal(CLIPPED.toFixed(3), "16.118");
});

test("kerasCategoricalCrossentropy from-logits gives the confidently wrong sample a gradient; clipped gives it none", async () => {
  const moved: Record<string, number> = {};
  for (const loss of ["from-logits", "clipped"] as const) {
    const model = confidentlyWrongModel();
    compileReportCnn(model, makeOptimizer("sgd", 1), loss);
    const before = model.layers[1].getWeights()[0].dataSync().slice();
    const x = tf.tensor4d(
      Float32Array.from(oneImage().images, (v) => v / 255),
      [1, 28, 28, 1],
    );
    const y = tf.cast(tf.oneHot([1], 10), "float32");
    const [value] = (await model.trainOnBatch(x, y)) as number[];
    const after = model.layers[1].getWeights()[0].dataSync();
    moved[loss] = Math.max(...Array.from(after, (w, i) => Math.abs(w - before[i])));
    assert.ok(Math.abs(value - (loss === "from-logits" ? FROM_LOGITS : CLIPPED)) < 1e-3 * value, `${loss} loss ${value}`);
    // SGD with lr 1: the true class's weight on the lit pixel rises by 1 − p ≈ 1, class 0's falls by p ≈ 1.
    if (loss === "from-logits") {
      assert.ok(Math.abs(after[1] - before[1] - 1) < 1e-4, `w[0][1] moved by ${after[1] - before[1]}`);
      assert.ok(Math.abs(after[0] - before[0] + 1) < 1e-4, `w[0][0] moved by ${after[0] - before[0]}`);
    }
    tf.dispose([x, y]);
    model.dispose();
  }
  assert.ok(moved["from-logits"] > 0.99, `from-logits moved the weights by ${moved["from-logits"]}`);
  assert.equal(moved["clipped"], 0, "the clip's gradient is zero outside [1e-7, 1 − 1e-7]");
});

test("evaluateModel scores like training: from-logits ≈ 30.0, clipped 16.118, and leaves no tensor behind", async () => {
  const model = confidentlyWrongModel();
  const tensors = tf.memory().numTensors;
  const fromLogits = await evaluateModel(model, oneImage());
  const clipped = await evaluateModel(model, oneImage(), { loss: "clipped" });
  assert.ok(Math.abs(fromLogits.loss - FROM_LOGITS) < 1e-4, `from-logits ${fromLogits.loss}`);
  assert.ok(Math.abs(clipped.loss - CLIPPED) < 1e-4, `clipped ${clipped.loss}`);
  assert.equal(tf.memory().numTensors, tensors);
});

test("the loss names are checked at run time", () => {
  assert.throws(() => kerasCategoricalCrossentropy("logits" as never), /Expected "from-logits" or "clipped" for loss but found "logits"/);
});

test("recorded logits nobody takes (a plain predict) are disposed at the next turn of the event loop", async () => {
  const model = confidentlyWrongModel();
  recordSoftmaxLogits(model);
  // Earlier tests' untaken logits go first, at this turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  const before = tf.memory().numTensors;
  const x = tf.zeros([2, 28, 28, 1]);
  (model.predict(x) as tf.Tensor).dispose();
  x.dispose();
  assert.equal(tf.memory().numTensors, before + 1, "the untaken logits live until the event loop turns");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
