// loadMnistTensors and its parts: the off-thread scaling gives scaleToUnit's exact values, the tensors are
// the report's shapes, and a checksum mismatch still fails the load while the scaling runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { type Mnist, initBackend, loadMnistTensors, loadMnistWhile, loadNativeBinding, scaleToUnit, scaleToUnitAsync } from "mnist-lab";
import { tempDir, writeTinyMnist } from "./helpers/idx_fixtures";

test("scaleToUnitAsync gives scaleToUnit's values for every byte 0–255 and for empty input", async () => {
  const every = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
  assert.deepEqual(await scaleToUnitAsync(every), scaleToUnit(every));
  assert.equal((await scaleToUnitAsync(new Uint8Array(0))).length, 0);
  // A view (byteOffset 3) of a larger buffer is read from its own start.
  assert.deepEqual(await scaleToUnitAsync(every.subarray(3, 103)), scaleToUnit(every.subarray(3, 103)));
});

test("the addon's scaleU8 rejects what is not a Uint8Array", async () => {
  const { binding } = loadNativeBinding();
  assert.ok(binding, "the addon loads where the tests run");
  assert.throws(() => binding.scaleU8(new Float32Array(4) as never, 1 / 255), /Expected a Uint8Array for pixels but found a Float32Array/);
  assert.throws(() => binding.scaleU8(new Uint8Array(4), "x" as never), /Expected a number for factor/);
});

test("the addon's readFile returns the file's bytes and rejects a missing file or a directory, naming it", async () => {
  const { binding } = loadNativeBinding();
  assert.ok(binding, "the addon loads where the tests run");
  const dir = tempDir();
  const file = path.join(dir, "bytes");
  fs.writeFileSync(file, Buffer.from([0, 1, 2, 255]));
  assert.deepEqual(Array.from(await binding.readFile(file)), [0, 1, 2, 255]);
  fs.writeFileSync(file, "");
  assert.equal((await binding.readFile(file)).length, 0);
  await assert.rejects(binding.readFile(path.join(dir, "missing")), /^Error: open .*missing: No such file or directory$/);
  await assert.rejects(binding.readFile(dir), /Expected a regular file at .* but it is not one/);
  assert.throws(() => binding.readFile(42 as never), /Expected a file path string/);
});

test("loadMnistTensors returns the report's shapes and the step-by-step values", async () => {
  await initBackend();
  const { mnist, xTrain, yTrain, xTest, yTest } = await loadMnistTensors();
  checkTensors(mnist, xTrain, yTrain, xTest, yTest);
});

function checkTensors(mnist: Mnist, xTrain: tf.Tensor, yTrain: tf.Tensor, xTest: tf.Tensor, yTest: tf.Tensor): void {
  try {
    assert.deepEqual(
      [xTrain.shape, yTrain.shape, xTest.shape, yTest.shape],
      [
        [60000, 28, 28, 1],
        [60000, 10],
        [10000, 28, 28, 1],
        [10000, 10],
      ],
    );
    assert.equal(mnist.checksums, "verified");
    const expected = scaleToUnit(mnist.test.images);
    const actual = xTest.dataSync();
    let mismatches = 0;
    for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) mismatches++;
    assert.equal(mismatches, 0);
    assert.deepEqual(
      Array.from(yTrain.dataSync().subarray(0, 10)),
      Array.from({ length: 10 }, (_, k) => (k === mnist.train.labels[0] ? 1 : 0)),
    );
    const expectedTrain = scaleToUnit(mnist.train.images.subarray(59000 * 784));
    const actualTrain = xTrain.dataSync().subarray(59000 * 784);
    assert.ok(
      expectedTrain.every((v, i) => v === actualTrain[i]),
      "the last 1,000 training images match",
    );
  } finally {
    tf.dispose([xTrain, yTrain, xTest, yTest]);
  }
}

test("loadMnistWhile throws the MD5 mismatch and drops the work's result (and its failure)", async () => {
  const dir = tempDir();
  writeTinyMnist(dir);
  let ran = false;
  await assert.rejects(
    loadMnistWhile({ dataDir: dir }, async () => {
      ran = true;
      throw new Error("work failed too");
    }),
    /^MnistLabError: Expected MD5 [0-9a-f]{32} \(the original train-images-idx3-ubyte\)/,
  );
  assert.ok(ran, "the work started before verification finished");
  const { mnist, result } = await loadMnistWhile({ dataDir: dir, verifyChecksums: false }, async (train, test) => train.count + test.count);
  assert.equal(result, mnist.train.count + mnist.test.count);
});
