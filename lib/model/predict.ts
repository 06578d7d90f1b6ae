// A model applied to a split: predictions, accuracy, loss and the confusion matrix (the report's
// tf.math.confusion_matrix). The one scoring path behind training's val_accuracy and 03_evaluate's figures.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { MNIST_COLS, MNIST_IMAGE_BYTES, MNIST_NUM_CLASSES, MNIST_ROWS } from "../data/data";
import { MnistLabError, describeValue, invalidParameterError } from "../shared/errors";
import { predictLean } from "./model";
import { toImageTensor, type LabelledImages } from "../data/preprocess";
import { checkLossName, recordSoftmaxLogits, sampleCrossentropy, takeSoftmaxLogits, type LossName } from "./loss";

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
  /** Row-major logits behind the softmax, when the model records them (see recordSoftmaxLogits). */
  logits?: Float32Array;
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
  let logits: Float32Array | undefined;
  let numClasses = 0;
  for (let from = 0; from < count; from += batchSize) {
    const n = Math.min(batchSize, count - from);
    const probs = tf.tidy(() => {
      const xs = images instanceof tf.Tensor ? tf.slice(images, from, n) : batchTensor(images, from, n);
      // A LayersModel is applied directly: model.predict copies its output, which would lose the recorded logits.
      const out =
        model instanceof tfl.Sequential
          ? predictLean(model, xs)
          : model instanceof tfl.LayersModel
            ? (model.apply(xs, { training: false }) as tf.Tensor | tf.Tensor[])
            : model.predict(xs);
      return Array.isArray(out) ? out[0] : out;
    });
    const batchLogits = takeSoftmaxLogits(probs);
    try {
      if (probs.rank !== 2 || probs.shape[0] !== n || (numClasses !== 0 && probs.shape[1] !== numClasses)) {
        throw new MnistLabError(
          `Expected model.predict to return probabilities of shape [${n}, ${numClasses || "classes"}] ` +
            `but found [${probs.shape.join(", ")}]`,
        );
      }
      if (numClasses === 0) {
        numClasses = probs.shape[1]!;
        probabilities = new Float32Array(count * numClasses);
      }
      probabilities.set((await probs.data()) as Float32Array, from * numClasses);
      if (batchLogits && (from === 0 || logits)) {
        logits ??= new Float32Array(count * numClasses);
        logits.set((await batchLogits.data()) as Float32Array, from * numClasses);
      } else logits = undefined;
    } finally {
      probs.dispose();
      batchLogits?.dispose();
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
  return { count, numClasses: numClasses || MNIST_NUM_CLASSES, probabilities, classes, confidence, logits };
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

export interface Evaluation {
  /** Share of images whose predicted class is the label. */
  accuracy: number;
  /** Mean categorical cross-entropy under the evaluation's `loss` (see lib/model/loss.ts). */
  loss: number;
  /** `confusion[true][predicted]`: rows are labels, columns predictions (tf.math.confusion_matrix). */
  confusion: number[][];
  predictions: Predictions;
  count: number;
}

/**
 * Predicts a whole split and scores it: accuracy, cross-entropy loss and the confusion matrix.
 * @example
 * const adam = await evaluateModel(model, mnist.test);
 * adam.accuracy; // e.g. 0.9963
 */
export async function evaluateModel(
  model: Predictor,
  split: LabelledImages,
  options: PredictOptions & { loss?: LossName } = {},
): Promise<Evaluation> {
  if (split.labels.length !== split.count) {
    throw new MnistLabError(`Expected ${split.count} labels (split.count) but found ${split.labels.length}`);
  }
  const loss = checkLossName(options.loss ?? "from-logits");
  if (loss === "from-logits" && model instanceof tfl.LayersModel) recordSoftmaxLogits(model);
  const predictions = await predictClasses(model, split.images, options);
  if (predictions.count !== split.count) {
    throw new MnistLabError(`Expected ${split.count} images (split.count) but found ${predictions.count}`);
  }
  const k = predictions.numClasses;
  const confusion = confusionMatrix(split.labels, predictions.classes, k);
  let lossSum = 0;
  let correct = 0;
  // Keras scores a softmax output from its logits (from-logits) and anything else from clipped probabilities.
  const rows = loss === "from-logits" && predictions.logits ? predictions.logits : predictions.probabilities;
  for (let i = 0; i < split.count; i++) {
    lossSum += sampleCrossentropy(split.labels[i], rows.subarray(i * k, (i + 1) * k), rows === predictions.logits);
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
export function confusionMatrix(
  trueLabels: ArrayLike<number>,
  predictedLabels: ArrayLike<number>,
  numClasses = MNIST_NUM_CLASSES,
): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw invalidParameterError("numClasses", "an integer ≥ 1", numClasses);
  if (trueLabels.length !== predictedLabels.length) {
    throw new MnistLabError(`Expected as many predicted labels as true labels (${trueLabels.length}) but found ${predictedLabels.length}`);
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
