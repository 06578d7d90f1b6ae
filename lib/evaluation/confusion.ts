// Error analysis of a confusion matrix: per-class metrics, the most confused pairs, misclassified images.
// Pure functions; no display.
import pl from "nodejs-polars";
import { MnistLabError, describeValue, invalidParameterError } from "../shared/errors";
import type { Predictions } from "../model/predict";

/** Checks that `m` is a square matrix of non-negative integer counts; returns its size. */
function checkConfusion(m: readonly (readonly number[])[], name = "confusion"): number {
  if (!Array.isArray(m) || m.length === 0) throw invalidParameterError(name, "a non-empty square matrix (array of rows)", m);
  for (let r = 0; r < m.length; r++) {
    if (!Array.isArray(m[r]) || m[r].length !== m.length) {
      throw new MnistLabError(`Expected ${name} to be ${m.length}×${m.length} but row ${r} is ${describeValue(m[r])}`);
    }
    for (let c = 0; c < m.length; c++) {
      const v = m[r][c];
      if (!Number.isInteger(v) || v < 0) {
        throw new MnistLabError(`Expected ${name} to hold counts (integers ≥ 0) but found ${describeValue(v)} at [${r}][${c}]`);
      }
    }
  }
  return m.length;
}

/**
 * Precision, recall, F1 and support per class as a polars frame (sklearn's classification_report;
 * a ratio with a zero denominator is 0, as sklearn's default zero_division gives with a warning).
 */
export function perClassMetrics(confusion: readonly (readonly number[])[]): pl.DataFrame {
  const k = checkConfusion(confusion);
  const precision = new Float64Array(k);
  const recall = new Float64Array(k);
  const f1 = new Float64Array(k);
  const support = new Int32Array(k);
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += confusion[r][c];
    support[c] = confusion[c].reduce((a, b) => a + b, 0);
    precision[c] = ratio(tp, predicted);
    recall[c] = ratio(tp, support[c]);
    f1[c] = ratio(2 * precision[c] * recall[c], precision[c] + recall[c]);
  }
  return pl.DataFrame([
    pl.Series(
      "digit",
      Int32Array.from({ length: k }, (_, i) => i),
    ),
    pl.Series("precision", precision),
    pl.Series("recall", recall),
    pl.Series("f1", f1),
    pl.Series("support", support),
  ]);
}

/** Two digits confused either way, as the report's "(4,9)": `count` = a→b + b→a, with `a < b`. */
export interface UnorderedConfusedPair {
  a: number;
  b: number;
  count: number;
  /** Images of `a` predicted as `b`. */
  aAsB: number;
  /** Images of `b` predicted as `a`. */
  bAsA: number;
}

/** The `k` digit pairs most confused in either direction, most first (ties: smaller a, then b); zero pairs are left out. */
export function mostConfusedUnorderedPairs(confusion: readonly (readonly number[])[], k = 5): UnorderedConfusedPair[] {
  const n = checkConfusion(confusion);
  checkK(k);
  const pairs: UnorderedConfusedPair[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const count = confusion[a][b] + confusion[b][a];
      if (count > 0) pairs.push({ a, b, count, aAsB: confusion[a][b], bAsA: confusion[b][a] });
    }
  }
  pairs.sort((x, y) => y.count - x.count || x.a - y.a || x.b - y.b);
  return pairs.slice(0, k);
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw invalidParameterError("k", "an integer ≥ 0", k);
}

/**
 * How often digits `a` and `b` are mistaken for each other: `confusion[a][b] + confusion[b][a]`.
 * @example
 * pairConfusion(rmsprop.confusion, 0, 6) > pairConfusion(adam.confusion, 0, 6); // the report's (0,6) remark
 */
export function pairConfusion(confusion: readonly (readonly number[])[], a: number, b: number): number {
  const n = checkConfusion(confusion);
  for (const [name, v] of [
    ["a", a],
    ["b", b],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= n) throw invalidParameterError(name, `a class in [0, ${n})`, v);
  }
  if (a === b) throw new MnistLabError(`Expected two different classes for pairConfusion but found ${a} twice`);
  return confusion[a][b] + confusion[b][a];
}

/** `a − b` cell by cell: positive where `a` (e.g. RMSprop) has more images in a cell than `b` (e.g. Adam). */
export function compareConfusions(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  const n = checkConfusion(a, "the first confusion matrix");
  const m = checkConfusion(b, "the second confusion matrix");
  if (n !== m) throw new MnistLabError(`Expected two confusion matrices of the same size but found ${n}×${n} and ${m}×${m}`);
  return a.map((row, r) => row.map((v, c) => v - b[r][c]));
}

/** One wrongly classified image. */
export interface Misclassification {
  /** Index of the image in the split. */
  index: number;
  trueLabel: number;
  predictedLabel: number;
  /** Probability the model gave its (wrong) prediction. */
  confidence: number;
}

/**
 * The misclassified images, most confident mistakes first (ties: lower index first).
 * @param limit at most this many (default: all)
 * @example
 * const errors = misclassified(mnist.test, adam.predictions, 24);
 * showDigits(mnist.test.images, undefined, { indices: errors.map((e) => e.index), captions: errors.map(misclassificationCaption) });
 */
export function misclassified(
  split: { labels: ArrayLike<number> },
  predictions: Pick<Predictions, "classes" | "confidence">,
  limit = Infinity,
): Misclassification[] {
  if (predictions.classes.length !== split.labels.length || predictions.confidence.length !== split.labels.length) {
    throw new MnistLabError(
      `Expected one prediction per label (${split.labels.length}) ` +
        `but found ${predictions.classes.length} classes and ${predictions.confidence.length} confidences`,
    );
  }
  if (!(limit >= 0)) throw invalidParameterError("limit", "a number ≥ 0", limit);
  const out: Misclassification[] = [];
  for (let i = 0; i < split.labels.length; i++) {
    if (predictions.classes[i] !== split.labels[i]) {
      out.push({ index: i, trueLabel: split.labels[i], predictedLabel: predictions.classes[i], confidence: predictions.confidence[i] });
    }
  }
  out.sort((x, y) => y.confidence - x.confidence || x.index - y.index);
  return out.slice(0, limit);
}

/** A short caption for a gallery: `true 4 → 9 (97.1%)`. */
export function misclassificationCaption(m: Misclassification): string {
  return `true ${m.trueLabel} → ${m.predictedLabel} (${(m.confidence * 100).toFixed(1)}%)`;
}
