// Evaluation of a trained model on a split: predictions, accuracy and loss, the confusion matrix
// (the report's tf.math.confusion_matrix), per-class metrics and error analysis. Pure functions; no display.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import pl from "nodejs-polars";
import { MNIST_COLS, MNIST_IMAGE_BYTES, MNIST_NUM_CLASSES, MNIST_ROWS } from "./data";
import { MnistLabError, describeValue, invalidParameterError } from "./errors";
import { predictLean } from "./model";
import { toImageTensor } from "./preprocess";

/** Anything with a Keras-style `predict` (a tfjs LayersModel): images `[n, 28, 28, 1]` → probabilities `[n, classes]`. */
export interface Predictor {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
}

/** What a model predicts for `count` images. */
export interface Predictions {
  count: number;
  numClasses: number;
  /** Row-major `count × numClasses` softmax outputs. */
  probabilities: Float32Array;
  /** The argmax of each row (the first class on ties, like np.argmax). */
  classes: Int32Array;
  /** The probability of the predicted class. */
  confidence: Float32Array;
}

export interface PredictOptions {
  /** Images per model.predict call (default 256); bounds memory, not the result. */
  batchSize?: number;
  /** Called after every batch, for a progress display. */
  onBatch?: (batch: number, batches: number) => void;
}

/**
 * Predicts the class of every image in batches; every tensor it creates is disposed.
 * @param images flat 28×28 images: uint8 pixels 0–255 (scaled by 1/255 as in training), float32 already in [0, 1],
 *   or a `[n, 28, 28, 1]` tensor (left to the caller to dispose)
 * @example
 * const { classes, confidence } = await predictClasses(model, mnist.test.images);
 */
export async function predictClasses(
  model: Predictor,
  images: Uint8Array | Float32Array | tf.Tensor,
  options: PredictOptions = {},
): Promise<Predictions> {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidParameterError("batchSize", "an integer ≥ 1", batchSize);
  const count = imageCount(images);
  let probabilities = new Float32Array(0);
  let numClasses = 0;
  for (let from = 0; from < count; from += batchSize) {
    const n = Math.min(batchSize, count - from);
    const probs = tf.tidy(() => {
      const xs = images instanceof tf.Tensor ? tf.slice(images, from, n) : batchTensor(images, from, n);
      const out = model instanceof tfl.Sequential ? predictLean(model, xs) : model.predict(xs);
      return Array.isArray(out) ? out[0] : out;
    });
    try {
      if (probs.rank !== 2 || probs.shape[0] !== n || (numClasses !== 0 && probs.shape[1] !== numClasses)) {
        throw new MnistLabError(
          `Expected model.predict to return probabilities of shape [${n}, ${numClasses || "classes"}] but found [${probs.shape.join(", ")}]`,
        );
      }
      if (numClasses === 0) {
        numClasses = probs.shape[1]!;
        probabilities = new Float32Array(count * numClasses);
      }
      probabilities.set((await probs.data()) as Float32Array, from * numClasses);
    } finally {
      probs.dispose();
    }
    options.onBatch?.(from / batchSize + 1, Math.ceil(count / batchSize));
  }
  const classes = new Int32Array(count);
  const confidence = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probabilities[i * numClasses + c] > probabilities[i * numClasses + best]) best = c;
    classes[i] = best;
    confidence[i] = probabilities[i * numClasses + best];
  }
  return { count, numClasses: numClasses || MNIST_NUM_CLASSES, probabilities, classes, confidence };
}

function imageCount(images: Uint8Array | Float32Array | tf.Tensor): number {
  if (images instanceof tf.Tensor) {
    const [, h, w, c] = images.shape;
    if (images.rank !== 4 || h !== MNIST_ROWS || w !== MNIST_COLS || c !== 1) {
      throw new MnistLabError(`Expected an image tensor of shape [n, 28, 28, 1] but found [${images.shape.join(", ")}]`);
    }
    return images.shape[0];
  }
  if (!(images instanceof Uint8Array || images instanceof Float32Array) || images.length % MNIST_IMAGE_BYTES !== 0) {
    throw invalidParameterError("images", `a Uint8Array or Float32Array of a multiple of ${MNIST_IMAGE_BYTES} pixels`, images);
  }
  return images.length / MNIST_IMAGE_BYTES;
}

/** Images `from … from + n` scaled exactly as training scales them (toImageTensor). */
function batchTensor(images: Uint8Array | Float32Array, from: number, n: number): tf.Tensor4D {
  return toImageTensor(images.subarray(from * MNIST_IMAGE_BYTES, (from + n) * MNIST_IMAGE_BYTES));
}

/** Labelled images, as MnistSplit. */
export interface LabelledSplit {
  images: Uint8Array | Float32Array;
  labels: ArrayLike<number>;
  count: number;
}

export interface Evaluation {
  /** Share of images whose predicted class is the label. */
  accuracy: number;
  /** Mean categorical cross-entropy, probabilities clipped to [1e-7, 1 − 1e-7] as Keras does. */
  loss: number;
  /** `confusion[true][predicted]`: rows are labels, columns predictions (tf.math.confusion_matrix). */
  confusion: number[][];
  predictions: Predictions;
  count: number;
}

/** Keras's backend epsilon, used to clip probabilities before the log. */
const KERAS_EPSILON = 1e-7;

/**
 * Predicts a whole split and scores it: accuracy, cross-entropy loss and the confusion matrix.
 * @example
 * const adam = await evaluateModel(model, mnist.test);
 * adam.accuracy; // e.g. 0.9963
 */
export async function evaluateModel(model: Predictor, split: LabelledSplit, options: PredictOptions = {}): Promise<Evaluation> {
  if (split.labels.length !== split.count) {
    throw new MnistLabError(`Expected ${split.count} labels (split.count) but found ${split.labels.length}`);
  }
  const predictions = await predictClasses(model, split.images, options);
  if (predictions.count !== split.count) {
    throw new MnistLabError(`Expected ${split.count} images (split.count) but found ${predictions.count}`);
  }
  const k = predictions.numClasses;
  const confusion = confusionMatrix(split.labels, predictions.classes, k);
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < split.count; i++) {
    const row = predictions.probabilities.subarray(i * k, (i + 1) * k);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += row[c];
    // Keras renormalises the rows before clipping; softmax outputs already sum to ~1.
    const p = Math.min(1 - KERAS_EPSILON, Math.max(KERAS_EPSILON, row[split.labels[i]] / sum));
    lossSum -= Math.log(p);
    if (predictions.classes[i] === split.labels[i]) correct++;
  }
  const count = split.count;
  return { accuracy: count === 0 ? 0 : correct / count, loss: count === 0 ? 0 : lossSum / count, confusion, predictions, count };
}

/**
 * The confusion matrix of labels against predictions: `m[true][predicted]` counts, like tf.math.confusion_matrix.
 * @example
 * confusionMatrix([0, 1, 1], [0, 1, 0], 2); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(trueLabels: ArrayLike<number>, predictedLabels: ArrayLike<number>, numClasses = MNIST_NUM_CLASSES): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw invalidParameterError("numClasses", "an integer ≥ 1", numClasses);
  if (trueLabels.length !== predictedLabels.length) {
    throw new MnistLabError(
      `Expected as many predicted labels as true labels (${trueLabels.length}) but found ${predictedLabels.length}`,
    );
  }
  checkLabels(trueLabels, numClasses, "true labels");
  checkLabels(predictedLabels, numClasses, "predicted labels");
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < trueLabels.length; i++) m[trueLabels[i]][predictedLabels[i]]++;
  return m;
}

function checkLabels(labels: ArrayLike<number>, numClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new MnistLabError(`Expected ${what} to be integers in [0, ${numClasses}) but found ${describeValue(label)} at index ${i}`);
    }
  }
}

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
    pl.Series("digit", Int32Array.from({ length: k }, (_, i) => i)),
    pl.Series("precision", precision),
    pl.Series("recall", recall),
    pl.Series("f1", f1),
    pl.Series("support", support),
  ]);
}

/** An off-diagonal cell of a confusion matrix: `count` images of `trueLabel` predicted as `predictedLabel`. */
export interface ConfusedPair {
  trueLabel: number;
  predictedLabel: number;
  count: number;
}

/**
 * The `k` largest off-diagonal cells, most confused first (ties: smaller true, then predicted label first).
 * Cells with count 0 are never listed, so fewer than `k` may come back.
 */
export function mostConfusedPairs(confusion: readonly (readonly number[])[], k = 5): ConfusedPair[] {
  const n = checkConfusion(confusion);
  checkK(k);
  const pairs: ConfusedPair[] = [];
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) if (t !== p && confusion[t][p] > 0) pairs.push({ trueLabel: t, predictedLabel: p, count: confusion[t][p] });
  }
  pairs.sort((x, y) => y.count - x.count || x.trueLabel - y.trueLabel || x.predictedLabel - y.predictedLabel);
  return pairs.slice(0, k);
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
  for (const [name, v] of [["a", a], ["b", b]] as const) {
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
export function misclassified(split: { labels: ArrayLike<number> }, predictions: Pick<Predictions, "classes" | "confidence">, limit = Infinity): Misclassification[] {
  if (predictions.classes.length !== split.labels.length || predictions.confidence.length !== split.labels.length) {
    throw new MnistLabError(
      `Expected one prediction per label (${split.labels.length}) but found ${predictions.classes.length} classes and ${predictions.confidence.length} confidences`,
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
