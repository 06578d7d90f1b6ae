// The onednn backend's buffer pool: best fit within the waste bound, oldest evicted at the cap, views that start on a
// cache line, and a view of a larger buffer never escapes to code that reads `values.buffer` whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { BufferPool, loadNativeBinding } from "mnist-lab";
import { onednnReady } from "./backend_helpers";

test("BufferPool takes the smallest buffer that fits within maxWaste", () => {
  const pool = new BufferPool(1000, 2);
  const [b100, b150, b300] = [new ArrayBuffer(100), new ArrayBuffer(150), new ArrayBuffer(300)];
  pool.give(b300);
  pool.give(b150);
  pool.give(b100);
  assert.equal(pool.byteCount, 550);
  assert.equal(pool.take(120), b150, "best fit, not first fit");
  assert.equal(pool.take(140), undefined, "300 bytes would waste more than 2x of 140");
  assert.equal(pool.take(100), b100, "exact fit");
  assert.equal(pool.take(150), b300);
  assert.equal(pool.size, 0);
  assert.equal(pool.byteCount, 0);
});

test("BufferPool evicts the oldest buffers past its cap and drops buffers larger than the cap", () => {
  const pool = new BufferPool(250, 4);
  const [a, b, c] = [new ArrayBuffer(100), new ArrayBuffer(100), new ArrayBuffer(100)];
  pool.give(a);
  pool.give(b);
  pool.give(c);
  assert.equal(pool.byteCount, 200);
  assert.equal(pool.take(100), b, "a was evicted first");
  pool.give(new ArrayBuffer(251));
  assert.equal(pool.byteCount, 100);
  pool.clear();
  assert.equal(pool.byteCount, 0);
  assert.throws(() => new BufferPool(-1), /at least 0 bytes but found -1/);
  assert.throws(() => new BufferPool(10, 0.5), /maxWaste of at least 1 but found 0.5/);
});

test("onednn recycles a larger buffer for a smaller output, and dataSync returns an exact-size array", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const internalValues = (t: tf.Tensor) =>
    (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId as object).values;
  const [ones, two] = [tf.ones([10000]), tf.scalar(2)];
  const big = tf.add(ones, 1); // a native output of 40,000 bytes
  const smallInput = tf.ones([8000]);
  const recycled = internalValues(big).buffer;
  big.dispose();
  const small = tf.add(smallInput, two); // fits in the freed 40,000-byte buffer
  const internal = internalValues(small);
  assert.equal(internal.buffer, recycled, "the freed buffer was reused");
  assert.equal(internal.byteLength, 32000);
  const read = small.dataSync() as Float32Array;
  assert.equal(read.length, 8000);
  assert.equal(read.buffer.byteLength, 32000, "what escapes owns an exact-size buffer");
  assert.deepEqual([read[0], read[7999]], [3, 3]);
  tf.dispose([ones, two, smallInput, small]);
});

test("onednn's pooled outputs start on a 64-byte line of their buffer, and what escapes starts at 0 of its own", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  const native = loadNativeBinding().binding!;
  const internalValues = (t: tf.Tensor) =>
    (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId as object).values;
  const input = tf.ones([3, 5000]);
  // Several outputs, so that more than one buffer (and more than one start address) is seen.
  const outputs = [1, 2, 3, 4].map((v) => tf.add(input, v));
  for (const out of outputs) {
    const values = internalValues(out);
    assert.equal(values.byteOffset, native.alignmentOffset(values.buffer as ArrayBuffer, 64), "the view starts on a cache line");
    assert.ok(values.byteOffset < 64 && values.buffer.byteLength >= values.byteLength + values.byteOffset);
  }
  const read = outputs[0].dataSync() as Float32Array;
  assert.deepEqual([read.byteOffset, read.buffer.byteLength, read[0], read[14999]], [0, 60000, 2, 2]);
  assert.throws(() => native.alignmentOffset(new ArrayBuffer(8), 48), /power of two up to 4096 for alignment but found 48/);
  assert.throws(() => native.alignmentOffset(new Float32Array(2) as never, 64), /Expected an ArrayBuffer for buffer/);
  tf.dispose([input, ...outputs]);
});
