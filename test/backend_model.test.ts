// The report's CNN on the onednn backend: every kernel of a training step and of inference is native,
// gradients and a short loss sequence match tfjs's cpu backend, and training leaks no tensors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  buildReportCnn,
  compileReportCnn,
  getKernelCallCounts,
  makeOptimizer,
  nativeKernelNames,
  resetKernelCallCounts,
  type OptimizerName,
} from "mnist-lab";
import { assertAllClose, onednnReady, randomValues } from "./backend_helpers";

function batch(n: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const labels = Array.from(randomValues([n], seed + 1), (v) => Math.floor((v + 2) * 2.5) % 10);
  return {
    x: tf.tensor4d(
      randomValues([n, 28, 28, 1], seed).map((v) => (v + 2) / 4),
      [n, 28, 28, 1],
    ),
    y: tf.cast(tf.oneHot(tf.tensor1d(labels, "int32"), 10), "float32"),
  };
}

// Kernels tf.profile lists that are op scopes, not kernels.
const isScope = (name: string) => name.endsWith("__op");

for (const optimizer of ["rmsprop", "adam"] as OptimizerName[]) {
  test(`onednn training step ${optimizer} x=[8,28,28,1] runs no kernel in JS`, async () => {
    await onednnReady();
    await tf.setBackend("onednn");
    const model = buildReportCnn({ seed: 1 });
    compileReportCnn(model, makeOptimizer(optimizer));
    const { x, y } = batch(8, 3);
    await model.trainOnBatch(x, y);
    resetKernelCallCounts();
    const profile = await tf.profile(async () => {
      await model.trainOnBatch(x, y);
    });
    const js = getKernelCallCounts().js;
    const native = new Set(nativeKernelNames());
    const unknown = [...new Set(profile.kernelNames.filter((k) => !isScope(k) && !native.has(k)))];
    assert.deepEqual({ js, unknown }, { js: {}, unknown: [] }, `kernels that ran in JS: ${JSON.stringify(js)} ${unknown.join(", ")}`);
    tf.dispose([x, y]);
    model.dispose();
  });
}

test("onednn inference x=[100,28,28,1] runs no kernel in JS", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const model = buildReportCnn({ seed: 1 });
  const { x, y } = batch(100, 5);
  resetKernelCallCounts();
  const profile = await tf.profile(() => {
    const p = model.predict(x, { batchSize: 32 }) as tf.Tensor;
    p.dataSync();
    p.dispose();
  });
  const js = getKernelCallCounts().js;
  const native = new Set(nativeKernelNames());
  const unknown = [...new Set(profile.kernelNames.filter((k) => !isScope(k) && !native.has(k)))];
  assert.deepEqual({ js, unknown }, { js: {}, unknown: [] });
  tf.dispose([x, y]);
  model.dispose();
});

// A narrow copy of the report's CNN without dropout, so the cpu backend runs it in seconds and both backends see the same function.
function smallCnn(): tfl.Sequential {
  return buildReportCnn({ seed: 7, filters: 6, denseUnits: 12, convDropout: 0, denseDropout: 0 });
}

function crossEntropy(p: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), -1)));
}

async function gradientsOn(backend: string): Promise<Record<string, number[]>> {
  await tf.setBackend(backend);
  const model = smallCnn();
  const { x, y } = batch(4, 11);
  const { value, grads } = tf.variableGrads(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor, y));
  const out: Record<string, number[]> = { loss: Array.from(value.dataSync()) };
  // Variable names get a per-process suffix; the layers' original names are the same on both backends.
  for (const w of model.trainableWeights) out[w.originalName] = Array.from(grads[w.name].dataSync());
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return out;
}

test("onednn whole-step gradients of a small report CNN x=[4,28,28,1] match cpu", async () => {
  await onednnReady();
  const expected = await gradientsOn("cpu");
  const actual = await gradientsOn("onednn");
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const name of Object.keys(expected)) assertAllClose(actual[name], expected[name], name, { rtol: 2e-3, atol: 2e-5 });
});

async function lossesOn(backend: string, optimizer: OptimizerName): Promise<number[]> {
  await tf.setBackend(backend);
  const model = smallCnn();
  compileReportCnn(model, makeOptimizer(optimizer));
  const { x, y } = batch(6, 13);
  const losses: number[] = [];
  for (let i = 0; i < 4; i++) losses.push(((await model.trainOnBatch(x, y)) as number[])[0]);
  tf.dispose([x, y]);
  model.dispose();
  return losses;
}

for (const optimizer of ["rmsprop", "adam"] as OptimizerName[]) {
  test(`onednn loss sequence ${optimizer} of 4 steps x=[6,28,28,1] matches cpu`, async () => {
    await onednnReady();
    const expected = await lossesOn("cpu", optimizer);
    const actual = await lossesOn("onednn", optimizer);
    assertAllClose(actual, expected, `${optimizer} losses`, { rtol: 2e-3, atol: 1e-5 });
  });
}

test("onednn training leaks no tensors: numTensors after step 10 equals after step 30 (x=[4,28,28,1])", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const model = buildReportCnn({ seed: 1 });
  compileReportCnn(model, makeOptimizer("adam"));
  const { x, y } = batch(4, 17);
  const counts: Record<number, number> = {};
  for (let step = 1; step <= 30; step++) {
    await model.trainOnBatch(x, y);
    if (step === 10 || step === 30) counts[step] = tf.memory().numTensors;
  }
  assert.equal(counts[30], counts[10], `numTensors after step 10 was ${counts[10]} but after step 30 ${counts[30]}`);
  tf.dispose([x, y]);
  model.dispose();
});
