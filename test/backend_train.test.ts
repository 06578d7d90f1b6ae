// The training loop (trainRun and its resume) on the onednn backend, with the report's full-size CNN at batch
// 86 on a tiny synthetic set: the runs complete, resume like an uninterrupted run, and no native kernel
// falls back to JS on the way (test/train.test.ts covers the loop's behaviour in depth on cpu).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  BATCH_NORM_RELU_GRAD,
  BATCH_NORM_RELU_TRAIN,
  DROPOUT,
  getKernelCallCounts,
  loadNativeBinding,
  loadRun,
  resetKernelCallCounts,
  trainRun,
  type TrainConfigInput,
} from "mnist-lab";
import { assertNativeRan } from "./backend_helpers";
import { syntheticDigits, tempDir, trainStoppedAfterEpoch } from "./helpers/train_fixtures";

// More images than the limits, so trainLimit (two batches of 86) and validationLimit do the selecting.
const data = { train: syntheticDigits(200, 1), test: syntheticDigits(120, 2) };
const config: TrainConfigInput = { optimizer: "rmsprop", epochs: 2, batchSize: 86, trainLimit: 172, validationLimit: 100 };
const quiet = () => undefined;
const strip = (history: Array<Record<string, number>>) => history.map(({ epoch_seconds: _s, ...rest }) => rest);

test("trainRun on onednn trains the report's CNN natively and records the backend", async () => {
  resetKernelCallCounts();
  const before = tf.memory().numTensors;
  const run = await trainRun(config, { data, runsDir: tempDir(), log: quiet, backend: "onednn", loadModel: false });
  assert.equal(tf.getBackend(), "onednn");
  assert.equal(run.status, "trained");
  assert.equal(run.history.length, 2);
  assert.deepEqual(run.metrics.backends, ["onednn (fused step)"]);
  assert.deepEqual(
    run.metrics.machines?.map((m) => m.threads),
    [loadNativeBinding().binding!.info().threads],
  );
  assert.equal(run.metrics.trainCount, 172);
  assert.equal(run.metrics.validationCount, 100);
  for (const h of run.history) assert.ok(Number.isFinite(h.loss) && Number.isFinite(h.val_loss), `finite losses: ${JSON.stringify(h)}`);
  assertNativeRan("trainRun");
  const { native } = getKernelCallCounts();
  // Training's fused kernels, and validation's inference kernels (MaxPool, FusedBatchNorm).
  const kernels = ["FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "_FusedMatMul", "MaxPool", "FusedBatchNorm"];
  for (const k of [...kernels, BATCH_NORM_RELU_TRAIN, BATCH_NORM_RELU_GRAD, DROPOUT]) {
    assert.ok(native[k] > 0, `Expected ${k} to run natively during training but found no native call`);
  }
  assert.equal(tf.memory().numTensors, before, "tensors left after the run");
});

test("trainRun on onednn resumed after an interruption ends bit for bit like an uninterrupted run", async () => {
  const straight = await trainRun(config, { data, runsDir: tempDir(), log: quiet, backend: "onednn", loadModel: false });
  const runsDir = tempDir();
  await trainStoppedAfterEpoch(1, config, { data, runsDir, log: quiet, backend: "onednn" });
  const runDir = path.join(runsDir, straight.runId);
  assert.ok(!fs.existsSync(path.join(runDir, "metrics.json")), "an interrupted run has no metrics");
  assert.equal(loadRun(runDir).history.length, 1);
  resetKernelCallCounts();
  const lines: string[] = [];
  const resumed = await trainRun(config, { data, runsDir, log: (l) => lines.push(l), backend: "onednn", loadModel: false });
  assertNativeRan("resumed trainRun");
  assert.equal(resumed.status, "resumed");
  assert.equal(resumed.resumedFromEpoch, 1);
  assert.match(lines[0], /^Resuming run .* after epoch 1\/2/);
  assert.deepEqual(resumed.metrics.backends, ["onednn (fused step)"]);
  // The fused step's sums go in a fixed order for a thread count, and oneDNN's primitives are run-to-run
  // deterministic on one machine: the resumed run is the uninterrupted one, bit for bit.
  assert.deepEqual(strip(resumed.history), strip(straight.history));
});

test("a run resumed on another thread count keeps each count with the first epoch it trained", async (t) => {
  const binding = loadNativeBinding().binding!;
  const threads = binding.info().threads;
  const other = threads === 1 ? 2 : 1;
  t.after(() => binding.setThreads(threads));
  const runsDir = tempDir();
  await trainStoppedAfterEpoch(1, config, { data, runsDir, log: quiet, backend: "onednn" });
  binding.setThreads(other);
  const resumed = await trainRun(config, { data, runsDir, log: quiet, backend: "onednn", loadModel: false });
  assert.equal(resumed.status, "resumed");
  assert.deepEqual(
    resumed.metrics.machines?.map((m) => [m.threads, m.fromEpoch]),
    [
      [threads, 1],
      [other, 2],
    ],
  );
});
