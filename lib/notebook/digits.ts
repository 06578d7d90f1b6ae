import { PNG } from "pngjs";
import { MNIST_COLS, MNIST_IMAGE_BYTES, MNIST_ROWS } from "../data/data";
import { MnistLabError } from "../shared/errors";
import { escapeHtml } from "./tables";

/** One 28×28 digit as a grayscale PNG, white on black like the original data. */
export function digitPng(images: Uint8Array | Float32Array, index: number): Buffer {
  const count = images.length / MNIST_IMAGE_BYTES;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new MnistLabError(`Expected an image index in [0, ${count}) but found ${index}`);
  }
  const png = new PNG({ width: MNIST_COLS, height: MNIST_ROWS, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  const pixels = Buffer.alloc(MNIST_IMAGE_BYTES);
  const scale = images instanceof Float32Array ? 255 : 1; // floats are the scaled [0, 1] pixels
  for (let p = 0; p < MNIST_IMAGE_BYTES; p++) {
    pixels[p] = Math.max(0, Math.min(255, Math.round(images[index * MNIST_IMAGE_BYTES + p] * scale)));
  }
  png.data = pixels;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

export interface DigitGridOptions {
  /** Which images to show (default: the first 24). */
  indices?: ArrayLike<number>;
  /** A caption under each digit, e.g. `label 5`; default: the label when labels are given. */
  captions?: string[];
  /** Displayed size of each digit in CSS pixels (default 56, twice the original). */
  size?: number;
  columns?: number;
}

/** A grid of digits with captions, as self-contained HTML (PNG data URIs). */
export function digitGridHtml(images: Uint8Array | Float32Array, labels?: ArrayLike<number>, options: DigitGridOptions = {}): string {
  const indices = Array.from(options.indices ?? Array.from({ length: Math.min(24, images.length / MNIST_IMAGE_BYTES) }, (_, i) => i));
  const size = options.size ?? 56;
  const columns = options.columns ?? 12;
  const cells = indices.map((index, k) => {
    const caption = options.captions?.[k] ?? (labels ? String(labels[index]) : `#${index}`);
    const src = `data:image/png;base64,${digitPng(images, index).toString("base64")}`;
    return (
      `<figure style="margin:2px;text-align:center;font:12px sans-serif">` +
      `<img src="${src}" width="${size}" height="${size}" style="image-rendering:pixelated" alt="digit ${escapeHtml(caption)}">` +
      `<figcaption>${escapeHtml(caption)}</figcaption></figure>`
    );
  });
  const grid = `display:grid;grid-template-columns:repeat(${columns},${size + 4}px)`;
  return `<div class="mnist-lab-digits" style="${grid}">${cells.join("")}</div>`;
}
