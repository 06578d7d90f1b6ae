// confusion.ts: per-class metrics, confused pairs and misclassified images from a confusion matrix.
import { test } from "node:test";
import assert from "node:assert/strict";
import type pl from "nodejs-polars";
import {
  compareConfusions,
  confusionMatrix,
  misclassificationCaption,
  misclassified,
  mostConfusedUnorderedPairs,
  pairConfusion,
  perClassMetrics,
} from "mnist-lab";

function column(frame: pl.DataFrame, name: string): number[] {
  return frame.getColumn(name).toArray() as number[];
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance))
      assert.fail(`index ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
  }
}

test("perClassMetrics gives hand-computed precision, recall, F1 and support", () => {
  const frame = perClassMetrics([
    [1, 1, 0],
    [0, 2, 0],
    [1, 1, 1],
  ]);
  assert.deepEqual(frame.columns, ["digit", "precision", "recall", "f1", "support"]);
  assert.deepEqual(frame.getColumn("digit").toArray(), [0, 1, 2]);
  assert.deepEqual(frame.getColumn("support").toArray(), [2, 2, 3]);
  // Column sums (predicted counts) are 2, 4, 1.
  assertClose(column(frame, "precision"), [1 / 2, 2 / 4, 1 / 1], 1e-12);
  assertClose(column(frame, "recall"), [1 / 2, 2 / 2, 1 / 3], 1e-12);
  assertClose(column(frame, "f1"), [0.5, 2 / 3, 0.5], 1e-12);
});

test("perClassMetrics gives 0 where a denominator is 0, as sklearn's zero_division default", () => {
  // Class 1 is never predicted (precision 0/0), class 2 never occurs (recall 0/0); both F1 0/0.
  const frame = perClassMetrics([
    [2, 0, 0],
    [1, 0, 0],
    [0, 0, 0],
  ]);
  assertClose(column(frame, "precision"), [2 / 3, 0, 0], 1e-12);
  assertClose(column(frame, "recall"), [1, 0, 0], 1e-12);
  assertClose(column(frame, "f1"), [0.8, 0, 0], 1e-12);
  assert.deepEqual(frame.getColumn("support").toArray(), [2, 1, 0]);
  assert.ok(column(frame, "f1").every((v) => Number.isFinite(v)));
});

test("perClassMetrics rejects a matrix that is not square counts", () => {
  assert.throws(() => perClassMetrics([[1, 2], [3]]), /Expected confusion to be 2×2 but row 1 is an array of length 1/);
  assert.throws(
    () =>
      perClassMetrics([
        [1, -1],
        [0, 1],
      ]),
    /Expected confusion to hold counts \(integers ≥ 0\) but found number -1 at \[0\]\[1\]/,
  );
  assert.throws(() => perClassMetrics([]), /Expected a non-empty square matrix/);
});

const FOUR = [
  [9, 3, 0, 1],
  [0, 8, 2, 0],
  [3, 0, 7, 0],
  [0, 5, 1, 6],
];

test("mostConfusedUnorderedPairs adds a→b and b→a, as the report's (4,9)", () => {
  assert.deepEqual(mostConfusedUnorderedPairs(FOUR, 10), [
    { a: 1, b: 3, count: 5, aAsB: 0, bAsA: 5 },
    { a: 0, b: 1, count: 3, aAsB: 3, bAsA: 0 },
    { a: 0, b: 2, count: 3, aAsB: 0, bAsA: 3 },
    { a: 1, b: 2, count: 2, aAsB: 2, bAsA: 0 },
    { a: 0, b: 3, count: 1, aAsB: 1, bAsA: 0 },
    { a: 2, b: 3, count: 1, aAsB: 0, bAsA: 1 },
  ]);
});

test("mostConfusedUnorderedPairs k keeps the first k, 0 gives none, a negative k is refused", () => {
  assert.deepEqual(
    mostConfusedUnorderedPairs(FOUR, 2).map((p) => [p.a, p.b]),
    [
      [1, 3],
      [0, 1],
    ],
  );
  assert.deepEqual(mostConfusedUnorderedPairs(FOUR, 0), []);
  assert.throws(() => mostConfusedUnorderedPairs(FOUR, -1), /Expected an integer ≥ 0 for k but found number -1/);
});

test("pairConfusion and compareConfusions show a pair confused more under one optimizer", () => {
  // 4↔9 confused under both, 0↔6 more under the first: the report's two observations.
  const truth = [4, 4, 9, 0, 6, 6, 0, 1];
  const rmsprop = confusionMatrix(truth, [9, 9, 4, 6, 0, 0, 0, 1]);
  const adam = confusionMatrix(truth, [9, 4, 4, 0, 0, 6, 0, 1]);
  assert.equal(pairConfusion(rmsprop, 4, 9), 3);
  assert.equal(pairConfusion(adam, 9, 4), 2);
  assert.equal(pairConfusion(rmsprop, 0, 6), 3);
  assert.equal(pairConfusion(adam, 0, 6), 1);
  const diff = compareConfusions(rmsprop, adam);
  assert.equal(diff[0][6], 1);
  assert.equal(diff[6][0], 1);
  assert.equal(diff[6][6], -1);
  assert.equal(
    diff.flat().reduce((s, v) => s + v, 0),
    0,
    "both matrices count the same images",
  );
  assert.deepEqual(
    mostConfusedUnorderedPairs(rmsprop, 2).map((p) => [p.a, p.b]),
    [
      [0, 6],
      [4, 9],
    ],
  );
  assert.throws(() => pairConfusion(adam, 3, 3), /Expected two different classes for pairConfusion but found 3 twice/);
  assert.throws(() => pairConfusion(adam, 0, 10), /Expected a class in \[0, 10\) for b but found number 10/);
  assert.throws(() => compareConfusions(adam, [[1]]), /Expected two confusion matrices of the same size but found 10×10 and 1×1/);
});

test("misclassified lists wrong predictions, most confident first, ties by index, up to limit", () => {
  const split = { labels: Uint8Array.of(1, 2, 3, 4, 5) };
  const predictions = { classes: Int32Array.of(1, 0, 3, 0, 0), confidence: Float32Array.of(0.9, 0.6, 0.99, 0.8, 0.6) };
  const all = misclassified(split, predictions);
  assert.deepEqual(
    all.map((m) => m.index),
    [3, 1, 4],
  );
  assert.deepEqual(all[0], { index: 3, trueLabel: 4, predictedLabel: 0, confidence: Math.fround(0.8) });
  assert.deepEqual(
    misclassified(split, predictions, 2).map((m) => m.index),
    [3, 1],
  );
  assert.equal(misclassificationCaption(all[0]), "true 4 → 0 (80.0%)");
  assert.throws(
    () => misclassified({ labels: [1, 2] }, predictions),
    /Expected one prediction per label \(2\) but found 5 classes and 5 confidences/,
  );
});
