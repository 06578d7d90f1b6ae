import { invalidParameterError } from "../shared/errors";
import { Rng } from "../shared/random";

/**
 * Ranges of Keras's `ImageDataGenerator` that the report sets; everything else (shear, flips,
 * brightness, channel shift) stays off, and `fill_mode` is Keras's default 'nearest'.
 */
export interface AugmentationOptions {
  /** Degrees; the angle is uniform in [−range, range] (Keras `rotation_range`). */
  rotationRange?: number;
  /** The zoom factors zx and zy are independently uniform in [1 − range, 1 + range] (Keras `zoom_range`). */
  zoomRange?: number;
  /** Fraction of the width; the column shift is uniform in [−range, range] × width (Keras `width_shift_range` < 1). */
  widthShiftRange?: number;
  /** Fraction of the height; the row shift is uniform in [−range, range] × height (Keras `height_shift_range` < 1). */
  heightShiftRange?: number;
  /**
   * The point rotation and zoom are taken about. `keras-2.3`: (h/2 + 0.5, w/2 + 0.5), half a pixel past the
   * grid's centre, as keras-preprocessing ≤ 1.1.2 (Keras 2.3, the report's) computes it; `keras-2.9`:
   * ((h − 1)/2, (w − 1)/2), the true centre, as Keras ≥ 2.9 does.
   */
  center?: TransformCenter;
}

export type TransformCenter = "keras-2.3" | "keras-2.9";
export const TRANSFORM_CENTERS: readonly TransformCenter[] = ["keras-2.3", "keras-2.9"];

/** The report's `ImageDataGenerator(rotation_range=10, zoom_range=0.1, width_shift_range=0.1, height_shift_range=0.1)`. */
export const REPORT_AUGMENTATION: Required<AugmentationOptions> = {
  rotationRange: 10,
  zoomRange: 0.1,
  widthShiftRange: 0.1,
  heightShiftRange: 0.1,
  center: "keras-2.3",
};

/**
 * One image's transform in Keras's `apply_affine_transform` terms: `tx` shifts rows and `ty` columns
 * (pixels), `zx` scales rows and `zy` columns. Like scipy's `affine_transform` the matrix maps an OUTPUT
 * pixel to the INPUT point it samples, so tx = +3 moves the content 3 rows up and zx = 1.1 shrinks it.
 * Axes and rotation sign follow keras-preprocessing's scipy implementation (row, column); its later
 * tfa-based one swaps x and y, which mirrors the rotation sign and swaps tx/ty — the same distribution
 * for square images and symmetric ranges, so training is unaffected either way.
 */
export interface AffineParams {
  thetaDegrees: number;
  tx: number;
  ty: number;
  zx: number;
  zy: number;
  /** Default `keras-2.9` (the grid's true centre). */
  center?: TransformCenter;
}

export const IDENTITY_AFFINE: Readonly<AffineParams> = { thetaDegrees: 0, tx: 0, ty: 0, zx: 1, zy: 1 };

/** Image geometry of a flat NHWC batch with one channel. */
export interface ImageShape {
  height: number;
  width: number;
}

const MNIST_SHAPE: ImageShape = { height: 28, width: 28 };

/** Fills the report's ranges for missing fields and checks each: throws `Expected … but found …`. */
export function resolveAugmentationOptions(options: AugmentationOptions): Required<AugmentationOptions> {
  const o = { ...REPORT_AUGMENTATION, ...options };
  for (const [name, value] of Object.entries(o)) {
    if (name === "center") continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
      throw invalidParameterError(`augmentation ${name}`, "a finite number ≥ 0", value);
  }
  if (!TRANSFORM_CENTERS.includes(o.center))
    throw invalidParameterError("augmentation center", TRANSFORM_CENTERS.map((c) => `"${c}"`).join(" or "), o.center);
  if (o.zoomRange >= 1) throw invalidParameterError("augmentation zoomRange", "a number in [0, 1)", o.zoomRange);
  if (o.widthShiftRange >= 1 || o.heightShiftRange >= 1) {
    throw invalidParameterError(
      "augmentation shift range",
      "a fraction of the image size in [0, 1)",
      Math.max(o.widthShiftRange, o.heightShiftRange),
    );
  }
  return o;
}

/**
 * Draws one image's parameters in the order and with the distributions of Keras's
 * `ImageDataGenerator.get_random_transform`: angle, row shift, column shift, then zx and zy.
 */
export function sampleAffineParams(rng: Rng, options: AugmentationOptions = {}, shape: ImageShape = MNIST_SHAPE): AffineParams {
  const o = resolveAugmentationOptions(options);
  return sampleResolved(rng, o, shape);
}

function sampleResolved(rng: Rng, o: Required<AugmentationOptions>, shape: ImageShape): AffineParams {
  // A range of 0 draws nothing, as in Keras, so turning one knob off does not disturb the others' stream.
  const thetaDegrees = o.rotationRange > 0 ? rng.uniform(-o.rotationRange, o.rotationRange) : 0;
  const tx = o.heightShiftRange > 0 ? rng.uniform(-o.heightShiftRange, o.heightShiftRange) * shape.height : 0;
  const ty = o.widthShiftRange > 0 ? rng.uniform(-o.widthShiftRange, o.widthShiftRange) * shape.width : 0;
  let zx = 1;
  let zy = 1;
  if (o.zoomRange > 0) {
    zx = rng.uniform(1 - o.zoomRange, 1 + o.zoomRange);
    zy = rng.uniform(1 - o.zoomRange, 1 + o.zoomRange);
  }
  return { thetaDegrees, tx, ty, zx, zy, center: o.center };
}

/**
 * Warps one single-channel image: `dst[r, c] = bilinear(src, M·(r, c) + b)` with Keras's matrix
 * rotation · shift · zoom taken about `params.center` (see {@link AugmentationOptions}), bilinear interpolation
 * (Keras `order=1`) and points outside the image taking the nearest edge pixel (`fill_mode='nearest'`).
 * Identity parameters copy the input exactly.
 */
export function affineTransformImage(
  src: ArrayLike<number>,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  params: AffineParams,
  shape: ImageShape = MNIST_SHAPE,
): void {
  const { height: h, width: w } = shape;
  const { thetaDegrees, tx, ty, zx, zy } = params;
  if (thetaDegrees === 0 && tx === 0 && ty === 0 && zx === 1 && zy === 1) {
    for (let i = 0; i < h * w; i++) dst[dstOffset + i] = src[srcOffset + i];
    return;
  }
  const theta = (thetaDegrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const half = params.center === "keras-2.3" ? 0.5 : -0.5;
  const oy = h / 2 + half;
  const ox = w / 2 + half;
  // input = R·(Z·(out − o) + t) + o, expanded into input = M·out + b.
  const m00 = cos * zx;
  const m01 = -sin * zy;
  const m10 = sin * zx;
  const m11 = cos * zy;
  const b0 = cos * tx - sin * ty + oy - m00 * oy - m01 * ox;
  const b1 = sin * tx + cos * ty + ox - m10 * oy - m11 * ox;
  const hMax = h - 1;
  const wMax = w - 1;
  let o = dstOffset;
  for (let r = 0; r < h; r++) {
    const rowY = m00 * r + b0;
    const rowX = m10 * r + b1;
    for (let c = 0; c < w; c++, o++) {
      const y = rowY + m01 * c;
      const x = rowX + m11 * c;
      const yf = Math.floor(y);
      const xf = Math.floor(x);
      const fy = y - yf;
      const fx = x - xf;
      // Clamping each neighbour to the edge is scipy's mode='nearest' for order-1 splines.
      const y0 = yf < 0 ? 0 : yf > hMax ? hMax : yf;
      const y1 = yf + 1 < 0 ? 0 : yf + 1 > hMax ? hMax : yf + 1;
      const x0 = xf < 0 ? 0 : xf > wMax ? wMax : xf;
      const x1 = xf + 1 < 0 ? 0 : xf + 1 > wMax ? wMax : xf + 1;
      const r0 = srcOffset + y0 * w;
      const r1 = srcOffset + y1 * w;
      const top = src[r0 + x0] + fx * (src[r0 + x1] - src[r0 + x0]);
      const bottom = src[r1 + x0] + fx * (src[r1 + x1] - src[r1 + x0]);
      dst[o] = top + fy * (bottom - top);
    }
  }
}

/**
 * Augments a batch of single-channel images (flat NHWC `[count, h, w, 1]`), each with its own parameters
 * drawn from `rng`, like one batch of Keras's `ImageDataGenerator.flow`. Pure TypeScript: works whatever
 * the tfjs backend. Returns `out` (allocated when not given).
 *
 * @example
 * const batch = augmentBatch(images, 86, new Rng(42));
 */
export function augmentBatch(
  images: ArrayLike<number>,
  count: number,
  rng: Rng,
  options: AugmentationOptions = {},
  out?: Float32Array,
  shape: ImageShape = MNIST_SHAPE,
): Float32Array {
  const o = resolveAugmentationOptions(options);
  const size = shape.height * shape.width;
  if (!Number.isInteger(count) || count < 0) throw invalidParameterError("augmentBatch count", "a non-negative integer", count);
  if (images.length < count * size) {
    throw invalidParameterError("augmentBatch images", `at least ${count} × ${size} values`, images);
  }
  const dst = out ?? new Float32Array(count * size);
  if (dst.length < count * size) throw invalidParameterError("augmentBatch out", `a Float32Array of length ≥ ${count * size}`, dst);
  for (let i = 0; i < count; i++) {
    affineTransformImage(images, i * size, dst, i * size, sampleResolved(rng, o, shape), shape);
  }
  return dst;
}

/** Originals and augmented variants for a notebook grid: one row per original. */
export interface AugmentPreview {
  height: number;
  width: number;
  /** Each a `height × width` image scaled to [0, 1]. */
  originals: Float32Array[];
  /** `augmented[i][j]` is the j-th random variant of `originals[i]`. */
  augmented: Float32Array[][];
  params: AffineParams[][];
}

/**
 * Picks `count` images (the first ones, or `indices`) and draws `variants` augmentations of each with `seed`.
 * Uint8 images are scaled by 1/255 as the report's preprocessing does.
 */
export function augmentPreview(
  images: Uint8Array | Float32Array,
  options: {
    count?: number;
    variants?: number;
    seed?: number;
    indices?: ArrayLike<number>;
    augmentation?: AugmentationOptions;
    shape?: ImageShape;
  } = {},
): AugmentPreview {
  const shape = options.shape ?? MNIST_SHAPE;
  const size = shape.height * shape.width;
  const indices = options.indices ? Array.from(options.indices) : Array.from({ length: options.count ?? 8 }, (_, i) => i);
  const variants = options.variants ?? 5;
  const o = resolveAugmentationOptions(options.augmentation ?? {});
  const rng = new Rng(options.seed ?? 0);
  const scale = images instanceof Uint8Array ? 1 / 255 : 1;
  const preview: AugmentPreview = { height: shape.height, width: shape.width, originals: [], augmented: [], params: [] };
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || (index + 1) * size > images.length) {
      throw invalidParameterError("augmentPreview index", `an image index in [0, ${Math.floor(images.length / size)})`, index);
    }
    const original = new Float32Array(size);
    for (let p = 0; p < size; p++) original[p] = images[index * size + p] * scale;
    const row: Float32Array[] = [];
    const rowParams: AffineParams[] = [];
    for (let v = 0; v < variants; v++) {
      const params = sampleResolved(rng, o, shape);
      const out = new Float32Array(size);
      affineTransformImage(original, 0, out, 0, params, shape);
      row.push(out);
      rowParams.push(params);
    }
    preview.originals.push(original);
    preview.augmented.push(row);
    preview.params.push(rowParams);
  }
  return preview;
}
