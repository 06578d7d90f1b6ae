import * as tf from "@tensorflow/tfjs-core";
import pl from "nodejs-polars";
import { MNIST_COLS, MNIST_IMAGE_BYTES, MNIST_NUM_CLASSES, MNIST_ROWS, type MnistSplit } from "./data";
import { MnistLabError, describeValue } from "../shared/errors";
import { Rng, shuffleInPlace } from "../shared/random";

/** Whether any value is NaN (the report's `np.isnan(x).any()`); integer arrays can hold none. */
export function hasNaN(values: ArrayLike<number>): boolean {
  if (values instanceof Uint8Array || values instanceof Int32Array || values instanceof Uint8ClampedArray) return false;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return true;
  return false;
}

/**
 * The report's NaN check (`np.isnan(x).any()`) as a sentence: its answer and how many values it looked at.
 * @example
 * nanCheckLine("x_train", new Float32Array([0, 1])); // "np.isnan(x_train).any() is False: none of its 2 values is NaN"
 */
export function nanCheckLine(name: string, values: ArrayLike<number>): string {
  const total = values.length.toLocaleString("en");
  if (!hasNaN(values)) return `np.isnan(${name}).any() is False: none of its ${total} values is NaN`;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) count++;
  return `np.isnan(${name}).any() is True: ${count.toLocaleString("en")} of its ${total} values are NaN`;
}

/**
 * The pixels of a split as a polars DataFrame, one row an image: `label`, then `p0` … `p783`.
 * @param limit only the first `limit` images (a 60,000×785 frame takes a second or so to build)
 */
export function pixelFrame(split: MnistSplit, limit = split.count): pl.DataFrame {
  const n = Math.min(limit, split.count);
  const columns: pl.Series[] = [pl.Series("label", split.labels.subarray(0, n))];
  const column = new Uint8Array(n);
  for (let p = 0; p < MNIST_IMAGE_BYTES; p++) {
    for (let i = 0; i < n; i++) column[i] = split.images[i * MNIST_IMAGE_BYTES + p];
    columns.push(pl.Series(`p${p}`, column));
  }
  return pl.DataFrame(columns);
}

/** Null and NaN counts over every column of a frame (polars' view of the report's NaN check). */
export function missingValueCount(frame: pl.DataFrame): number {
  const nulls = frame
    .nullCount()
    .row(0)
    .reduce((a: number, b: number) => a + b, 0);
  const floats = frame
    .getColumns()
    .filter((series) => series.isFloat())
    .map((series) => series.name);
  const nans =
    floats.length === 0
      ? 0
      : (frame.select(...floats.map((name) => pl.col(name).isNan().sum())).row(0) as number[]).reduce((a, b) => a + b, 0);
  return nulls + nans;
}

/** Scales uint8 pixels 0–255 to float32 in [0, 1] (the report's `x / 255.0`). */
export function scaleToUnit(images: Uint8Array): Float32Array {
  const out = new Float32Array(images.length);
  scaleInto(images, 0, out, 0, images.length);
  return out;
}

/**
 * The one pixel scaling of the project (notebook cells, training batches, evaluation): `count` values of `src`
 * from `srcOffset` into `dst` at `dstOffset`, uint8 × (1/255), float32 copied as they are.
 */
export function scaleInto(src: ArrayLike<number>, srcOffset: number, dst: Float32Array, dstOffset: number, count: number): void {
  const factor = src instanceof Uint8Array ? 1 / 255 : 1;
  for (let i = 0; i < count; i++) dst[dstOffset + i] = src[srcOffset + i] * factor;
}

/**
 * Reshapes flat images to an NHWC tensor `[N, 28, 28, 1]` (the report's `reshape(-1, 28, 28, 1)`).
 * The caller owns (and disposes) the tensor.
 */
export function toImageTensor(pixels: Float32Array | Uint8Array): tf.Tensor4D {
  if (pixels.length % MNIST_IMAGE_BYTES !== 0) {
    throw new MnistLabError(`Expected a multiple of ${MNIST_IMAGE_BYTES} pixels (28×28 images) but found ${pixels.length}`);
  }
  const data = pixels instanceof Uint8Array ? scaleToUnit(pixels) : pixels;
  return tf.tensor4d(data, [pixels.length / MNIST_IMAGE_BYTES, MNIST_ROWS, MNIST_COLS, 1], "float32");
}

/**
 * One-hot encodes labels like Keras `to_categorical`: label 3 → [0,0,0,1,0,0,0,0,0,0].
 * Rejects labels that are not integers in [0, numClasses).
 * @returns a row-major Float32Array of `labels.length × numClasses`
 * @example
 * toOneHot([3], 10); // Float32Array [0,0,0,1,0,0,0,0,0,0]
 */
export function toOneHot(labels: ArrayLike<number>, numClasses = MNIST_NUM_CLASSES): Float32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new MnistLabError(`Expected numClasses to be an integer ≥ 1 but found ${describeValue(numClasses)}`);
  }
  const out = new Float32Array(labels.length * numClasses);
  oneHotInto(labels, null, 0, labels.length, out, numClasses);
  return out;
}

/**
 * The one one-hot encoding of the project: labels `indices[from … from + n)` (or `from … from + n` when
 * `indices` is null) into the first `n` rows of `out`, which are cleared first.
 */
export function oneHotInto(
  labels: ArrayLike<number>,
  indices: ArrayLike<number> | null,
  from: number,
  n: number,
  out: Float32Array,
  numClasses = MNIST_NUM_CLASSES,
): void {
  out.fill(0, 0, n * numClasses);
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[from + k] : from + k;
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new MnistLabError(`Expected labels to be integers in [0, ${numClasses}) but found ${describeValue(label)} at index ${i}`);
    }
    out[k * numClasses + label] = 1;
  }
}

/** toOneHot as a `[N, numClasses]` tensor; the caller disposes it. */
export function toOneHotTensor(labels: ArrayLike<number>, numClasses = MNIST_NUM_CLASSES): tf.Tensor2D {
  return tf.tensor2d(toOneHot(labels, numClasses), [labels.length, numClasses]);
}

export interface SplitOptions {
  /** Share of the images held out for validation, in (0, 1). */
  validationFraction: number;
  seed: number;
  /** Labels to stratify by: each class keeps the same share in both parts. */
  stratifyLabels?: ArrayLike<number>;
}

/** A seeded train/validation split of `count` indices (each part sorted, so reads stay sequential). */
export function splitTrainValidation(count: number, options: SplitOptions): { trainIndices: Int32Array; validationIndices: Int32Array } {
  const { validationFraction, seed, stratifyLabels } = options;
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new MnistLabError(`Expected validationFraction in (0, 1) but found ${describeValue(validationFraction)}`);
  }
  if (!Number.isInteger(count) || count < 2) {
    throw new MnistLabError(`Expected at least 2 items to split but found ${describeValue(count)}`);
  }
  if (stratifyLabels && stratifyLabels.length !== count) {
    throw new MnistLabError(`Expected ${count} stratify labels but found ${stratifyLabels.length}`);
  }
  const rng = new Rng(seed);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const key = stratifyLabels ? stratifyLabels[i] : 0;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(i);
  }
  const validation: number[] = [];
  const train: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const group = shuffleInPlace(groups.get(key)!, rng);
    const held = Math.round(group.length * validationFraction);
    validation.push(...group.slice(0, held));
    train.push(...group.slice(held));
  }
  return {
    trainIndices: Int32Array.from(train).sort(),
    validationIndices: Int32Array.from(validation).sort(),
  };
}

/** Images and labels of one split: a loaded MnistSplit, or float32 pixels already in [0, 1] (03_evaluate's own images). */
export interface LabelledImages {
  images: Uint8Array | Float32Array;
  labels: ArrayLike<number>;
  count: number;
}

/**
 * The one image selection of the project: the images at `indices` copied into a new split of the same pixel type,
 * or, when `indices` is null, the first `count` as views (no copy).
 * @example
 * const firstThousand = selectImages(mnist.test, null, 1000);
 */
export function selectImages(split: LabelledImages, indices: ArrayLike<number> | null, count = indices?.length ?? 0): LabelledImages {
  if (indices === null) {
    const labels = ArrayBuffer.isView(split.labels)
      ? (split.labels as Uint8Array).subarray(0, count)
      : Array.prototype.slice.call(split.labels, 0, count);
    return { images: split.images.subarray(0, count * MNIST_IMAGE_BYTES), labels: labels as ArrayLike<number>, count };
  }
  const images =
    split.images instanceof Uint8Array ? new Uint8Array(count * MNIST_IMAGE_BYTES) : new Float32Array(count * MNIST_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const i = indices[k];
    images.set(split.images.subarray(i * MNIST_IMAGE_BYTES, (i + 1) * MNIST_IMAGE_BYTES), k * MNIST_IMAGE_BYTES);
    labels[k] = split.labels[i];
  }
  return { images, labels, count };
}

/**
 * The one batch path of the project (training, validation, the bench): images `indices[from … from + n)` (or
 * `from … from + n` when `indices` is null) scaled into `x` (NHWC) and their one-hot labels into `y`.
 */
export function gatherBatch(
  split: LabelledImages,
  indices: ArrayLike<number> | null,
  from: number,
  n: number,
  x: Float32Array,
  y: Float32Array,
): void {
  for (let k = 0; k < n; k++) {
    const image = indices ? indices[from + k] : from + k;
    scaleInto(split.images, image * MNIST_IMAGE_BYTES, x, k * MNIST_IMAGE_BYTES, MNIST_IMAGE_BYTES);
  }
  oneHotInto(split.labels, indices, from, n, y, MNIST_NUM_CLASSES);
}

/** A shape as Python prints a tuple: `(60000, 28, 28, 1)`, `(10000,)`. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}
