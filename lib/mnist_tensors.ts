// All of MNIST as the report's tensors in one call, as fast as this machine allows: the scaled pixels come from
// the verified cache (lib/pixel_cache.ts) or are scaled off the JS thread, while the MD5s are checked on it
// (bench/load_data.ts prints the figures).
import * as tf from "@tensorflow/tfjs-core";
import { loadMnistWhile, type LoadMnistOptions, type Mnist } from "./data";
import { readPixelCache, writePixelCache, type ScaledPixels } from "./pixel_cache";
import { scaleToUnitAsync, toImageTensor, toOneHotTensor } from "./preprocess";

export interface LoadMnistTensorsOptions extends LoadMnistOptions {
  /** Read and keep the scaled pixels in the on-disk cache (default true; only for checksum-verified loads). */
  cache?: boolean;
}

export interface MnistTensors {
  mnist: Mnist;
  /** `[60000, 28, 28, 1]` float32 in [0, 1] (the report's x_train). */
  xTrain: tf.Tensor4D;
  /** `[60000, 10]` one-hot (y_train after to_categorical). */
  yTrain: tf.Tensor2D;
  xTest: tf.Tensor4D;
  yTest: tf.Tensor2D;
  /** Where the scaled pixels came from: the cache, or scaled now. */
  pixelSource: "cache" | "scaled";
}

/**
 * Loads and verifies MNIST (as loadMnist) and returns it with the report's preprocessed tensors, the same
 * values as scaleToUnit → toImageTensor and toOneHotTensor. The caller disposes the tensors.
 * @example
 * const { xTrain, yTrain } = await loadMnistTensors();
 */
export async function loadMnistTensors(options: LoadMnistTensorsOptions = {}): Promise<MnistTensors> {
  // The cache holds pixels of the original files only, so only a verified load may use it.
  const useCache = (options.verifyChecksums ?? true) && (options.cache ?? true);
  const { mnist, result } = await loadMnistWhile(options, async (train, test) => {
    const cached = useCache ? await readPixelCache(train.count, test.count) : null;
    if (cached) return { pixels: cached, source: "cache" as const };
    const [trainPixels, testPixels] = await Promise.all([scaleToUnitAsync(train.images), scaleToUnitAsync(test.images)]);
    return { pixels: { train: trainPixels, test: testPixels } as ScaledPixels, source: "scaled" as const };
  });
  // A cache that cannot be written (read-only disk, full disk) only costs the next load its speed.
  if (useCache && result.source === "scaled") await writePixelCache(result.pixels).catch(() => undefined);
  return {
    mnist,
    xTrain: toImageTensor(result.pixels.train),
    yTrain: toOneHotTensor(mnist.train.labels),
    xTest: toImageTensor(result.pixels.test),
    yTest: toOneHotTensor(mnist.test.labels),
    pixelSource: result.source,
  };
}
