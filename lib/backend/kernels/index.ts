// The one registration list of native kernels of the onednn backend (mirrors native/src/addon.cc).
import { batchMatMulConfig, fusedMatMulConfig } from "./matmul";
import { conv2dBackpropFilterConfig, conv2dBackpropInputConfig, conv2dConfig, fusedConv2dConfig } from "./conv2d";
import { elementwiseConfigs } from "./elementwise";
import { batchNormGradConfig, batchNormReluGradConfig, batchNormReluTrainConfig, fusedBatchNormConfig } from "./batchnorm";
import { dropoutConfig } from "./dropout";
import { maxPoolConfig, maxPoolGradConfig } from "./pool";
import { reduceConfigs } from "./reduce";
import { shapeOpConfigs } from "./shape_ops";
import { softmaxConfig, softmaxCrossEntropyConfig, softmaxCrossEntropyGradConfig } from "./softmax";
import { kerasAdamUpdateConfig, kerasRmspropUpdateConfig } from "./optimizer";
import type { NativeKernelConfig } from "./util";

export type { NativeKernelArgs, NativeKernelConfig, NativeKernelFunc } from "./util";
export { BATCH_NORM_GRAD, BATCH_NORM_RELU_GRAD, BATCH_NORM_RELU_TRAIN, type BatchNormReluAttrs } from "./batchnorm";
export { DROPOUT, type DropoutAttrs } from "./dropout";
export { RELU_GRAD } from "./elementwise";
export { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from "./softmax";
export { KERAS_ADAM_UPDATE, KERAS_RMSPROP_UPDATE } from "./optimizer";

export const NATIVE_KERNELS: NativeKernelConfig[] = [
  conv2dConfig,
  fusedConv2dConfig,
  conv2dBackpropInputConfig,
  conv2dBackpropFilterConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  fusedBatchNormConfig,
  batchNormGradConfig,
  softmaxConfig,
  softmaxCrossEntropyConfig,
  softmaxCrossEntropyGradConfig,
  ...elementwiseConfigs,
  ...reduceConfigs,
  ...shapeOpConfigs,
  kerasRmspropUpdateConfig,
  kerasAdamUpdateConfig,
  batchNormReluTrainConfig,
  batchNormReluGradConfig,
  dropoutConfig,
];
