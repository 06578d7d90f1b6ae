// The benchmark's shape (not its speed: figures are printed, never asserted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { runBench } from "mnist-lab";

const root = path.join(__dirname, "..");

test("runBench steps=2 batch=8 rounds=2 reports positive speeds, flat tensor counts and RSS, and leaks nothing", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  const before = tf.memory().numTensors;
  const result = await runBench({ backend: "onednn", steps: 2, warmupSteps: 1, batchSize: 8, inferBatchSize: 16, rounds: 2 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(result.backend, "onednn");
  assert.ok(result.trainImagesPerSec.rmsprop > 0 && result.trainImagesPerSec.adam > 0);
  assert.ok(result.inferImagesPerSec > 0 && result.peakRssMiB > 0);
  assert.equal(result.numTensors.adam.end, result.numTensors.adam.afterWarmup);
  assert.equal(result.pytorch, undefined);
});

test("mnist-lab bench --json --steps 1 --batch-size 4 prints one JSON object on the last line", () => {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "mnist-lab"), "bench", "--json", "--steps", "1", "--batch-size", "4", "--backend", "onednn"],
    { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const figures = JSON.parse(r.stdout.trim().split("\n").pop()!);
  for (const key of ["backend", "trainImagesPerSec", "inferImagesPerSec", "epochSeconds", "peakRssMiB"]) assert.ok(key in figures, key);
});

test("mnist-lab bench --compare-pytorch with a missing script fails naming the path", () => {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "mnist-lab"), "bench", "--steps", "1", "--batch-size", "4", "--compare-pytorch", "--pytorch-script", "/nonexistent/pytorch_cnn.py"],
    { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Expected PyTorch's reference script at \/nonexistent\/pytorch_cnn.py/);
});
