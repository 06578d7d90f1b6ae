// The fused training step (lib/training/fused_step.ts) against tfjs-layers' trainOnBatch, the reference it replaces:
// the same losses, accuracies, weights and BatchNorm statistics when both draw tfjs's dropout masks; native kernels
// doing the work; repeatable; and trainOnBatch wherever the fused step does not apply.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  BATCH_NORM_RELU_GRAD,
  BATCH_NORM_RELU_TRAIN,
  DROPOUT,
  FusedStep,
  buildReportCnn,
  compileReportCnn,
  getKernelCallCounts,
  makeOptimizer,
  resetKernelCallCounts,
  trainBatch,
  trainingStepKind,
  type DropoutMultiplier,
} from "mnist-lab";
import { assertAllClose, onednnReady, rand } from "./backend_helpers";

const BATCH = 16;

function reportCnn(optimizer: "sgd" | "rmsprop" | "adam", loss: "from-logits" | "clipped" = "from-logits"): tfl.LayersModel {
  const model = buildReportCnn({ seed: 3 });
  compileReportCnn(model, makeOptimizer(optimizer, optimizer === "sgd" ? 0.01 : 0.001), loss);
  return model;
}

/** A batch of images in [0, 1) and one-hot labels. */
function batch(seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.tidy(() => tf.div(tf.add(rand([BATCH, 28, 28, 1], seed), 2), 4));
  const ys = tf.tidy(() => tf.cast(tf.oneHot(tf.cast(tf.floor(tf.mul(tf.add(rand([BATCH], seed + 1), 2), 2.5)), "int32"), 10), "float32"));
  return { xs, ys };
}

/** Gives every dropout layer the same seed in both models for step `k`, as reseedDropout does per batch. */
function seedDropout(models: tfl.LayersModel[], k: number): void {
  for (const model of models)
    model.layers.forEach((layer, i) => {
      if (layer.getClassName() === "Dropout") (layer as unknown as { seed: number }).seed = 1000 * k + i;
    });
}

/** tfjs's own dropout mask (tf.dropout's floor(u + keep)/keep from the layer's seed), for a like-for-like comparison. */
const tfjsMasks: DropoutMultiplier = (layer, x) => {
  const keep = 1 - Number((layer.getConfig() as { rate: number }).rate);
  const seed = (layer as unknown as { seed: number }).seed;
  return tf.div(tf.floor(tf.add(tf.randomUniform(x.shape, 0, 1, "float32", seed), keep)), keep);
};

function assertSameWeights(a: tfl.LayersModel, b: tfl.LayersModel, tol: { rtol: number; atol: number }): void {
  a.weights.forEach((w, i) => assertAllClose(w.read().dataSync(), b.weights[i].read().dataSync(), w.originalName, tol));
}

async function trainBoth(
  optimizer: "sgd" | "rmsprop" | "adam",
  steps: number,
): Promise<{ fused: tfl.LayersModel; reference: tfl.LayersModel }> {
  await onednnReady();
  await tf.setBackend("onednn");
  const [fused, reference] = [reportCnn(optimizer), reportCnn(optimizer)];
  const step = new FusedStep(fused);
  for (let k = 0; k < steps; k++) {
    const { xs, ys } = batch(10 + k);
    seedDropout([fused, reference], k);
    const ours = step.run(xs, ys, { dropoutMultiplier: tfjsMasks });
    const [loss, accuracy] = (await reference.trainOnBatch(xs, ys)) as number[];
    // Step 1 starts from the same weights; later steps from weights that RMSprop and Adam have moved apart (see below).
    assertAllClose([ours.loss], [loss], `step ${k + 1} loss`, { rtol: k === 0 ? 1e-4 : 1e-3, atol: 1e-6 });
    assert.equal(ours.accuracy, accuracy, `step ${k + 1} accuracy`);
    tf.dispose([xs, ys]);
  }
  return { fused, reference };
}

// SGD moves each weight by lr × its gradient: one step compares every gradient, BatchNorm's statistics included.
test("fused step: one SGD step of the report's CNN as trainOnBatch's (loss, accuracy, every weight, moving statistics)", async () => {
  const { fused, reference } = await trainBoth("sgd", 1);
  assertSameWeights(fused, reference, { rtol: 1e-4, atol: 1e-6 });
  fused.dispose();
  reference.dispose();
});

// RMSprop and Adam divide each update by a running RMS of its gradient: a weight whose gradient is near zero moves by
// about ±lr whatever its size, so float rounding grows quickly between two paths on random labels. Their losses and
// accuracies must agree over 3 steps; their gradients are compared from the same trained weights below.
for (const optimizer of ["rmsprop", "adam"] as const) {
  test(`fused step: 3 ${optimizer} steps give trainOnBatch's losses and accuracies`, async () => {
    const { fused, reference } = await trainBoth(optimizer, 3);
    fused.dispose();
    reference.dispose();
  });
}

test("fused step: from weights RMSprop has trained, the same gradients as trainOnBatch (one SGD step of lr 1)", async () => {
  const { fused: trained, reference } = await trainBoth("rmsprop", 2);
  // getWeights hands over the variables themselves: they go with `trained`.
  const weights = trained.getWeights();
  const [fused, plain] = [buildReportCnn({ seed: 3 }), buildReportCnn({ seed: 3 })];
  for (const model of [fused, plain]) {
    compileReportCnn(model, makeOptimizer("sgd", 1));
    model.setWeights(weights);
  }
  const { xs, ys } = batch(12);
  seedDropout([fused, plain], 2);
  new FusedStep(fused).run(xs, ys, { dropoutMultiplier: tfjsMasks });
  await plain.trainOnBatch(xs, ys);
  fused.weights.forEach((w, i) => {
    const before = weights[i].dataSync();
    const [ours, theirs] = [w.read().dataSync(), plain.weights[i].read().dataSync()].map((after) => after.map((v, k) => before[k] - v));
    assertAllClose(ours, theirs, `${w.originalName} gradient`, { rtol: 1e-3, atol: 1e-5 });
  });
  tf.dispose([xs, ys]);
  for (const model of [trained, reference, fused, plain]) model.dispose();
});

test("fused step: every BatchNorm, ReLU and dropout runs in the native kernels, none in JS", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const model = reportCnn("rmsprop");
  const { xs, ys } = batch(1);
  seedDropout([model], 0);
  resetKernelCallCounts();
  await trainBatch(model, xs, ys);
  const { native, fallback } = getKernelCallCounts();
  assert.deepEqual(fallback, {}, "no native kernel fell back to JS");
  assert.deepEqual([native[BATCH_NORM_RELU_TRAIN], native[BATCH_NORM_RELU_GRAD], native[DROPOUT]], [5, 5, 4]);
  for (const spelledOut of ["Relu", "FusedBatchNorm", "Tile", "Floor"]) assert.equal(native[spelledOut], undefined, `${spelledOut} ran`);
  tf.dispose([xs, ys]);
  model.dispose();
});

test("fused step: the same seeds give the same weights bit for bit", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const [a, b] = [reportCnn("adam"), reportCnn("adam")];
  for (let k = 0; k < 2; k++) {
    const { xs, ys } = batch(20 + k);
    seedDropout([a, b], k);
    const [ra, rb] = [await trainBatch(a, xs, ys), await trainBatch(b, xs, ys)];
    assert.deepEqual(ra, rb);
    tf.dispose([xs, ys]);
  }
  assertSameWeights(a, b, { rtol: 0, atol: 0 });
  a.dispose();
  b.dispose();
});

test("fused step: trainOnBatch where it does not apply, saying why", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const clipped = reportCnn("rmsprop", "clipped");
  assert.match(trainingStepKind(clipped), /^tfjs-layers trainOnBatch \(the loss is not the from-logits/);
  const plain = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: "relu" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  compileReportCnn(plain, makeOptimizer("rmsprop"));
  assert.match(trainingStepKind(plain), /layer conv2d\S* is not followed by a trainable BatchNormalization/);
  const { xs, ys } = batch(5);
  resetKernelCallCounts();
  const outcome = await trainBatch(plain, xs, ys);
  assert.ok(Number.isFinite(outcome.loss) && outcome.accuracy >= 0 && outcome.accuracy <= 1);
  assert.equal(getKernelCallCounts().native[BATCH_NORM_RELU_TRAIN], undefined, "trainOnBatch trained it");
  assert.equal(trainingStepKind(reportCnn("adam")), "fused");
  await tf.setBackend("cpu");
  assert.match(trainingStepKind(reportCnn("adam")), /the cpu backend is active/);
  await tf.setBackend("onednn");
  tf.dispose([xs, ys]);
});
