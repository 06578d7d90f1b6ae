import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, permutation, shuffleInPlace } from "mnist-lab";

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.nextUint32());

test("Rng same seed gives the same stream, other seeds another", () => {
  assert.deepEqual(draw(new Rng(42), 100), draw(new Rng(42), 100));
  assert.notDeepEqual(draw(new Rng(42), 100), draw(new Rng(43), 100));
  // Adjacent small seeds must not give shifted copies of one stream.
  const a = draw(new Rng(0), 50);
  const b = draw(new Rng(1), 50);
  assert.equal(a.filter((x) => b.includes(x)).length, 0);
});

test("Rng state round-trips through JSON and continues the same stream", () => {
  const rng = new Rng(7);
  draw(rng, 1234);
  const saved = JSON.parse(JSON.stringify(rng.state()));
  const expected = draw(rng, 100);
  assert.deepEqual(draw(new Rng(saved), 100), expected);
});

test("Rng.uniform stays in [low, high) with the right mean and spread", () => {
  const rng = new Rng(3);
  const n = 100_000;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform(-10, 10);
    sum += u;
    min = Math.min(min, u);
    max = Math.max(max, u);
  }
  assert.ok(min >= -10 && max < 10, `range [${min}, ${max}]`);
  assert.ok(min < -9.99 && max > 9.99, "covers the range");
  assert.ok(Math.abs(sum / n) < 0.1, `mean ${sum / n}`);
});

test("Rng.int gives each value of [0, n) about equally often", () => {
  const rng = new Rng(11);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) counts[rng.int(10)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `counts ${counts}`);
});

test("Rng rejects seeds and states it cannot use, saying what it found", () => {
  assert.throws(() => new Rng(1.5), /Expected a safe integer for Rng seed but found number 1.5/);
  assert.throws(
    () => new Rng([1, 2, 3] as unknown as [number, number, number, number]),
    /Expected 4 unsigned 32-bit integers for Rng state/,
  );
  assert.throws(() => new Rng(1).int(0), /Expected an integer in \[1, 2\^32\] for Rng.int n but found number 0/);
});

test("permutation holds every index once and depends on the seed", () => {
  const p = permutation(1000, new Rng(5));
  assert.deepEqual(
    Array.from(p).sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(Array.from(permutation(1000, new Rng(5))), Array.from(p));
  assert.notDeepEqual(Array.from(permutation(1000, new Rng(6))), Array.from(p));
  assert.notDeepEqual(
    Array.from(p),
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test("shuffleInPlace puts every element in every position about equally often", () => {
  const rng = new Rng(9);
  const counts = Array.from({ length: 4 }, () => new Array(4).fill(0));
  for (let t = 0; t < 40_000; t++) {
    const a = shuffleInPlace([0, 1, 2, 3], rng);
    a.forEach((v, pos) => counts[v][pos]++);
  }
  for (const row of counts) for (const c of row) assert.ok(Math.abs(c - 10_000) < 500, JSON.stringify(counts));
});
