// Shared by the backend tests: run a computation on tfjs's cpu backend and on onednn, compare with a
// tolerance that treats NaN and Infinity exactly and names the first bad index, and fail when a native
// kernel fell back to JS (which would otherwise pass: the fallback is tfjs-cpu's own kernel).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { getKernelCallCounts, initBackend, resetKernelCallCounts } from "mnist-lab";

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

export interface MatchOptions extends Tolerance {
  /**
   * Native kernels this computation is expected to run in JS on onednn (inputs they decline by design), each
   * with the reason; every one must fall back and no other may.
   */
  expectedFallbacks?: Record<string, string>;
}

/** Throws unless actual matches expected elementwise: NaN where NaN, the same Infinity, else |a-e| <= atol + rtol*|e|. */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol: Tolerance = {}): void {
  const rtol = tol.rtol ?? 1e-4,
    atol = tol.atol ?? 1e-5;
  if (actual.length !== expected.length) {
    throw new Error(`${label}: expected ${expected.length} values but found ${actual.length}`);
  }
  let bad = 0,
    first = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
        ? a === e
        : Number.isFinite(a) && Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${label}: ${bad} of ${expected.length} values differ; first at index ${first}: ` +
        `expected ${expected[first]} but found ${actual[first]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

let ready: Promise<void> | undefined;
/** Registers the onednn backend once (throws with reasons if the addon is not built). */
export function onednnReady(): Promise<void> {
  ready ??= initBackend("onednn").then(() => undefined);
  return ready;
}

type Out = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

function flatten(out: Out): tf.Tensor[] {
  if (out instanceof tf.Tensor) return [out];
  if (Array.isArray(out)) return out;
  return Object.keys(out)
    .sort()
    .map((k) => out[k]);
}

/** Runs fn under a backend and returns shapes, dtypes and values of its outputs, leaking no tensors. */
export async function runOn(backend: string, fn: () => Out): Promise<Array<{ shape: number[]; dtype: string; values: number[] }>> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(() => flatten(fn()));
  const result = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(outs);
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${backend}: expected ${before} tensors after the computation but found ${after}`);
  return result;
}

/** Every kernel that has run natively in an assertMatchesCpu of this process (for coverage checks). */
export const kernelsSeenNative = new Set<string>();

/** Throws unless exactly the expected native kernels fell back to JS since the counts were last reset. */
export function assertNativeRan(label: string, expectedFallbacks: Record<string, string> = {}): void {
  const { fallback, native } = getKernelCallCounts();
  for (const k of Object.keys(native)) kernelsSeenNative.add(k);
  const unexpected = Object.keys(fallback)
    .filter((k) => !(k in expectedFallbacks))
    .sort();
  if (unexpected.length > 0) {
    throw new Error(
      `${label}: expected every native kernel to run natively but found JS fallbacks: ` +
        unexpected.map((k) => `${k} x${fallback[k]}`).join(", "),
    );
  }
  const missing = Object.keys(expectedFallbacks)
    .filter((k) => !(k in fallback))
    .sort();
  if (missing.length > 0) {
    throw new Error(
      `${label}: expected ${missing.join(", ")} to fall back to JS (listed as expected) but found it native: ` +
        missing.map((k) => `${k} x${native[k] ?? 0}`).join(", "),
    );
  }
}

/**
 * Runs fn on cpu and on onednn and asserts equal shapes, dtypes and close values, and that every native
 * kernel ran natively on onednn except `expectedFallbacks`.
 */
export async function assertMatchesCpu(label: string, fn: () => Out, options: MatchOptions = {}): Promise<void> {
  await onednnReady();
  const tol: Tolerance = { rtol: options.rtol, atol: options.atol };
  const expected = await runOn("cpu", fn);
  resetKernelCallCounts();
  const actual = await runOn("onednn", fn);
  if (expected.length !== actual.length) throw new Error(`${label}: expected ${expected.length} outputs but found ${actual.length}`);
  expected.forEach((e, i) => {
    const a = actual[i];
    if (a.shape.join() !== e.shape.join()) throw new Error(`${label} output ${i}: expected shape [${e.shape}] but found [${a.shape}]`);
    if (a.dtype !== e.dtype) throw new Error(`${label} output ${i}: expected dtype ${e.dtype} but found ${a.dtype}`);
    assertAllClose(a.values, e.values, `${label} output ${i}`, tol);
  });
  assertNativeRan(label, options.expectedFallbacks);
}

/** A small seeded generator (mulberry32) so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values in [-2, 2) from a seed, the same on every backend. */
export function randomValues(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const r = seededRandom(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 4 - 2;
  return v;
}

/** A float32 tensor of seeded values in [-2, 2). */
export function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomValues(shape, seed), shape, "float32");
}
