// Random shapes and values (seeded, so a failure names a reproducible case) through the onednn kernels vs cpu.
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { assertMatchesCpu, rand, seededRandom } from "./backend_helpers";

const CASES = 60;

function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

test(`fuzz binary broadcasting: ${CASES} random shape pairs of rank 0-4 with size-0 and size-1 dims`, async () => {
  const r = seededRandom(101);
  for (let c = 0; c < CASES; c++) {
    const rank = int(r, 0, 4);
    const out = Array.from({ length: rank }, () => (r() < 0.1 ? 0 : int(r, 1, 6)));
    const pick = () => out.slice(int(r, 0, rank)).map((d) => (r() < 0.4 ? 1 : d));
    const a = pick(),
      b = pick();
    const ops = [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.greaterEqual, tf.lessEqual, tf.equal];
    await assertMatchesCpu(`case ${c} a=[${a}] b=[${b}]`, () => ops.map((op) => op(rand(a, c), rand(b, c + 1))));
  }
});

test(`fuzz reductions: ${CASES} random shapes and axis sets`, async () => {
  const r = seededRandom(202);
  for (let c = 0; c < CASES; c++) {
    const shape = Array.from({ length: int(r, 1, 4) }, () => int(r, 1, 6));
    const axes = shape.map((_, i) => i).filter(() => r() < 0.5);
    const keep = r() < 0.5;
    await assertMatchesCpu(`case ${c} x=[${shape}] axes=[${axes}] keepDims=${keep}`, () => {
      const x = rand(shape, c);
      return [tf.sum(x, axes, keep), tf.mean(x, axes, keep), tf.max(x, axes, keep), tf.argMax(x, axes.length ? axes[0] : 0)];
    });
  }
});

test(`fuzz conv2d, its gradients and maxPool: ${CASES} random geometries`, async () => {
  const r = seededRandom(303);
  for (let c = 0; c < CASES; c++) {
    const [n, h, w, ci, co] = [int(r, 1, 3), int(r, 3, 12), int(r, 3, 12), int(r, 1, 5), int(r, 1, 6)];
    const [fh, fw] = [int(r, 1, Math.min(5, h)), int(r, 1, Math.min(5, w))];
    const stride = int(r, 1, 3);
    const pad = r() < 0.5 ? "same" : "valid";
    const label = `case ${c} x=[${n},${h},${w},${ci}] f=[${fh},${fw},${ci},${co}] s=${stride} p=${pad}`;
    await assertMatchesCpu(
      label,
      () => {
        const x = rand([n, h, w, ci], c) as tf.Tensor4D,
          f = rand([fh, fw, ci, co], c + 1) as tf.Tensor4D;
        const y = tf.conv2d(x, f, stride, pad);
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))(
          [x, f],
          rand(y.shape, c + 2),
        );
        const fused = tf.fused.conv2d({ x, filter: f, strides: stride, pad, bias: rand([co], c + 3), activation: "relu" });
        const pool = tf.maxPool(x, [fh, fw], stride, pad);
        const dpool = tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, [fh, fw], stride, pad))(x, rand(pool.shape, c + 4));
        return [y, dx, df, fused, pool, dpool];
      },
      { rtol: 1e-3, atol: 1e-4 },
    );
  }
});

test(`fuzz matMul, transpose, tile, slice: ${CASES} random shapes`, async () => {
  const r = seededRandom(404);
  for (let c = 0; c < CASES; c++) {
    const [b, m, k, n] = [int(r, 1, 3), int(r, 1, 9), int(r, 1, 9), int(r, 1, 9)];
    const ta = r() < 0.5,
      tb = r() < 0.5;
    const shape = Array.from({ length: int(r, 1, 4) }, () => int(r, 1, 5));
    const perm = shape.map((_, i) => i).sort(() => r() - 0.5);
    const reps = shape.map(() => int(r, 1, 3));
    const begin = shape.map((d) => int(r, 0, d - 1));
    const size = shape.map((d, i) => int(r, 0, d - begin[i]));
    await assertMatchesCpu(
      `case ${c} matMul b=${b} m=${m} k=${k} n=${n} ta=${ta} tb=${tb}; ` +
        `x=[${shape}] perm=[${perm}] reps=[${reps}] begin=[${begin}] size=[${size}]`,
      () => {
        const x = rand(shape, c);
        return [
          tf.matMul(rand(ta ? [b, k, m] : [b, m, k], c), rand(tb ? [b, n, k] : [b, k, n], c + 1), ta, tb),
          tf.transpose(x, perm),
          tf.tile(x, reps),
          tf.slice(x, begin, size),
        ];
      },
    );
  }
});
