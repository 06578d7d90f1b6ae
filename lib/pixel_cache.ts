// The scaled pixels of the original MNIST (float32, x / 255) cached on disk. It is read into private memory, not
// mapped: a mapped file that another process truncates kills the mapping process with SIGBUS, and tensors keep
// using those pages for the life of the process. (bench/load_data.ts compares a cache hit with scaling anew.)
// The cache holds only data derived from the MD5-verified original files, carries an XXH3 of its payload (checked
// on the copy that is used), and is replaced by rename, never written in place. MNIST_CACHE_DIR moves it; deleting
// it is always safe.
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "./atomic_file";
import { loadNativeBinding, type NativeBinding } from "./backend/native_binding";
import { MNIST_FILES, MNIST_IMAGE_BYTES } from "./data";
import { projectRoot } from "./paths";

const MAGIC = "MNLABF32";
const FORMAT_VERSION = 1;
// magic (8) · version, train count, test count, reserved (4 × u32) · payload XXH3 as 16 hex digits · padding
const HEADER_BYTES = 64;

export interface ScaledPixels {
  train: Float32Array;
  test: Float32Array;
}

/** Where the cache lives: MNIST_CACHE_DIR, else `.cache/` in the project. */
export function pixelCacheDir(): string {
  return process.env.MNIST_CACHE_DIR || path.join(projectRoot(), ".cache");
}

/** The cache file for the original MNIST files (named by their MD5s, so other data never matches it). */
export function pixelCachePath(dir = pixelCacheDir()): string {
  return path.join(dir, `mnist-scaled-${MNIST_FILES.trainImages.md5.slice(0, 12)}-${MNIST_FILES.testImages.md5.slice(0, 12)}.f32`);
}

function nativeOrNull(): NativeBinding | null {
  return loadNativeBinding().binding;
}

/**
 * The cached scaled pixels of `trainCount` and `testCount` images, or null when there is no cache, it is
 * for other counts, or its payload does not match its hash (it is then ignored and rewritten later).
 * Needs the native addon (reading and hashing); null without it.
 */
export async function readPixelCache(trainCount: number, testCount: number, file = pixelCachePath()): Promise<ScaledPixels | null> {
  const native = nativeOrNull();
  if (!native) return null;
  const payloadBytes = (trainCount + testCount) * MNIST_IMAGE_BYTES * 4;
  let bytes: Uint8Array;
  try {
    if ((await fs.promises.stat(file)).size !== HEADER_BYTES + payloadBytes) return null;
    // A private copy (the addon reads into fresh memory and rejects a file that shrinks meanwhile), never a mapping.
    bytes = await native.readFile(file);
  } catch {
    return null;
  }
  if (bytes.length !== HEADER_BYTES + payloadBytes) return null;
  const header = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  if (text(0, 8) !== MAGIC || header.getUint32(8, true) !== FORMAT_VERSION) return null;
  if (header.getUint32(12, true) !== trainCount || header.getUint32(16, true) !== testCount) return null;
  const payload = bytes.subarray(HEADER_BYTES);
  if ((await native.xxh3([payload])) !== text(24, 40)) return null;
  const split = HEADER_BYTES + trainCount * MNIST_IMAGE_BYTES * 4;
  return {
    train: new Float32Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, trainCount * MNIST_IMAGE_BYTES),
    test: new Float32Array(bytes.buffer, bytes.byteOffset + split, testCount * MNIST_IMAGE_BYTES),
  };
}

/**
 * Writes the cache (atomically: a temp file renamed over). Call it only with pixels of the verified original
 * files. Without the native addon there is nothing to read it with, so nothing is written.
 */
export async function writePixelCache(pixels: ScaledPixels, file = pixelCachePath()): Promise<void> {
  const native = nativeOrNull();
  if (!native) return;
  const train = new Uint8Array(pixels.train.buffer, pixels.train.byteOffset, pixels.train.byteLength);
  const test = new Uint8Array(pixels.test.buffer, pixels.test.byteOffset, pixels.test.byteLength);
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(Buffer.from(MAGIC, "latin1"), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, pixels.train.length / MNIST_IMAGE_BYTES, true);
  view.setUint32(16, pixels.test.length / MNIST_IMAGE_BYTES, true);
  header.set(Buffer.from(await native.xxh3([train, test]), "latin1"), 24);
  await writeFileAtomic(file, [header, train, test], { sync: false });
}
