// All of MNIST as the report's tensors in one call: the pixels are scaled off the JS thread while the MD5s are
// checked on it (bench/load_data.ts prints the figures). An on-disk cache of scaled pixels was tried and
// dropped: read safely into private memory it was slower than scaling anew.
import * as tf from "@tensorflow/tfjs-core";
import { loadMnistWhile, type LoadMnistOptions, type Mnist } from "./data";
import { scaleToUnitAsync, toImageTensor, toOneHotTensor } from "./preprocess";

export interface MnistTensors {
  mnist: Mnist;
  /** `[60000, 28, 28, 1]` float32 in [0, 1] (the report's x_train). */
  xTrain: tf.Tensor4D;
  /** `[60000, 10]` one-hot (y_train after to_categorical). */
  yTrain: tf.Tensor2D;
  xTest: tf.Tensor4D;
  yTest: tf.Tensor2D;
}

/**
 * Loads and verifies MNIST (as loadMnist) and returns it with the report's preprocessed tensors, the same
 * values as scaleToUnit → toImageTensor and toOneHotTensor. The caller disposes the tensors.
 * @example
 * const { xTrain, yTrain } = await loadMnistTensors();
 */
export async function loadMnistTensors(options: LoadMnistOptions = {}): Promise<MnistTensors> {
  const { mnist, result } = await loadMnistWhile(options, (train, test) => Promise.all([scaleToUnitAsync(train.images), scaleToUnitAsync(test.images)]));
  return {
    mnist,
    xTrain: toImageTensor(result[0]),
    yTrain: toOneHotTensor(mnist.train.labels),
    xTest: toImageTensor(result[1]),
    yTest: toOneHotTensor(mnist.test.labels),
  };
}
