import { invalidParameterError } from "./errors";

/** The whole state of an {@link Rng}: four unsigned 32-bit words, JSON-serialisable so a checkpoint can resume the stream. */
export type RngState = [number, number, number, number];

/**
 * Seeded pseudo-random generator (sfc32: small, fast, passes PractRand; period ≥ 2^32).
 * Everything random in training (shuffles, augmentation, dropout seeds) draws from one of these,
 * so a run is repeatable and a resumed run continues the same stream.
 *
 * @example
 * const rng = new Rng(42);
 * const u = rng.uniform(-1, 1); // same value for every Rng(42)
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | RngState) {
    if (Array.isArray(seed)) {
      if (seed.length !== 4 || seed.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
        throw invalidParameterError("Rng state", "4 unsigned 32-bit integers", seed);
      }
      [this.a, this.b, this.c, this.d] = seed;
      return;
    }
    if (!Number.isSafeInteger(seed)) throw invalidParameterError("Rng seed", "a safe integer", seed);
    // splitmix32 spreads any integer seed (including 0, 1, 2 …) over the four state words.
    let s = (seed >>> 0) ^ Math.floor(seed / 0x100000000);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32(); // standard sfc32 warm-up
  }

  /** A copy of the state; `new Rng(rng.state())` continues exactly where `rng` is. */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw invalidParameterError("Rng.int n", "an integer in [1, 2^32]", n);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }
}

/** Shuffles `array` in place (Fisher–Yates) and returns it. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A random permutation of 0 … n−1. */
export function permutation(n: number, rng: Rng): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw invalidParameterError("permutation n", "a non-negative integer", n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return shuffleInPlace(out, rng);
}
