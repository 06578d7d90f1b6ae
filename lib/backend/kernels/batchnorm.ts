// FusedBatchNorm with given mean and variance (native/src/batchnorm.cc).
import { FusedBatchNorm } from "@tensorflow/tfjs-core";
import type { FusedBatchNormAttrs, FusedBatchNormInputs, TensorInfo } from "@tensorflow/tfjs-core";
import { f32, nativeKernel, output } from "./util";

/** tfjs's FusedBatchNorm epsilon when its attrs give none. */
const DEFAULT_VARIANCE_EPSILON = 0.001;

export const fusedBatchNormConfig = nativeKernel<FusedBatchNormAttrs, FusedBatchNormInputs>(
  FusedBatchNorm,
  ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x),
      mean = f32(backend, inputs.mean),
      variance = f32(backend, inputs.variance);
    if (!x || !mean || !variance || mean.length === 0 || variance.length === 0) return null;
    const offset = inputs.offset ? f32(backend, inputs.offset) : null;
    const scale = inputs.scale ? f32(backend, inputs.scale) : null;
    if ((inputs.offset && !offset) || (inputs.scale && !scale) || offset?.length === 0 || scale?.length === 0) return null;
    const epsilon = attrs.varianceEpsilon == null ? DEFAULT_VARIANCE_EPSILON : Number(attrs.varianceEpsilon);
    const out = output(backend, [...inputs.x!.shape], "float32");
    backend.native.batchNorm(x, mean, variance, offset, scale, out.values, epsilon);
    return out.info;
  },
);

/** Kernel name of the fused FusedBatchNorm gradient; only the onednn backend has it (see ../gradients.ts). */
export const BATCH_NORM_GRAD = "OnednnFusedBatchNormGrad";

/** Outputs [dx, dMean, dVariance, dScale, dOffset] for per-channel ([C]) parameters over x = [..., C]. */
export const batchNormGradConfig = nativeKernel<FusedBatchNormAttrs>(BATCH_NORM_GRAD, ({ inputs, backend, attrs }) => {
  const dy = f32(backend, inputs.dy),
    x = f32(backend, inputs.x),
    mean = f32(backend, inputs.mean),
    variance = f32(backend, inputs.variance);
  const scale = inputs.scale ? f32(backend, inputs.scale) : null;
  if (!dy || !x || !mean || !variance || (inputs.scale && !scale)) return null;
  const c = mean.length;
  const dx = output(backend, [...inputs.x!.shape], "float32");
  const per = () => output(backend, [...inputs.mean!.shape], "float32");
  const [dMean, dVariance, dScale, dOffset] = [per(), per(), per(), per()];
  if (c === 0) return null;
  backend.native.batchNormGrad(
    dy,
    x,
    mean,
    variance,
    scale,
    dx.values,
    dMean.values,
    dVariance.values,
    dScale.values,
    dOffset.values,
    attrs.varianceEpsilon == null ? DEFAULT_VARIANCE_EPSILON : Number(attrs.varianceEpsilon),
  );
  return [dx.info, dMean.info, dVariance.info, dScale.info, dOffset.info];
});

/**
 * The training step's conv ReLU and BatchNorm in one kernel (lib/training/fused_step.ts); only onednn has it.
 * Inputs {z, gamma, beta} with z = [..., C]; attrs {varianceEpsilon}; outputs [y, batch mean, batch variance].
 */
export const BATCH_NORM_RELU_TRAIN = "OnednnBatchNormReluTrain";
/** Its backward pass and the conv bias's gradient: inputs {dy, z, mean, variance, gamma}; outputs [dz, dGamma, dBeta, dBias]. */
export const BATCH_NORM_RELU_GRAD = "OnednnBatchNormReluGrad";

export interface BatchNormReluAttrs {
  varianceEpsilon: number;
}

/** The channel count of z = [..., C] when `perChannel` all hold C values, else 0. */
function channelsOf(z: TensorInfo | undefined, perChannel: Array<TensorInfo | undefined>): number {
  const c = z?.shape[z.shape.length - 1] ?? 0;
  return c > 0 && perChannel.every((t) => t?.shape.length === 1 && t.shape[0] === c) ? c : 0;
}

export const batchNormReluTrainConfig = nativeKernel<BatchNormReluAttrs>(BATCH_NORM_RELU_TRAIN, ({ inputs, backend, attrs }) => {
  const [z, gamma, beta] = [f32(backend, inputs.z), f32(backend, inputs.gamma), f32(backend, inputs.beta)];
  const c = channelsOf(inputs.z, [inputs.gamma, inputs.beta]);
  if (!z || !gamma || !beta || c === 0 || z.length === 0) return null;
  const y = output(backend, [...inputs.z!.shape], "float32");
  const [mean, variance] = [output(backend, [c], "float32"), output(backend, [c], "float32")];
  backend.native.batchNormReluTrain(z, gamma, beta, y.values, mean.values, variance.values, attrs.varianceEpsilon);
  return [y.info, mean.info, variance.info];
});

export const batchNormReluGradConfig = nativeKernel<BatchNormReluAttrs>(BATCH_NORM_RELU_GRAD, ({ inputs, backend, attrs }) => {
  const names = ["dy", "z", "mean", "variance", "gamma"] as const;
  const [dy, z, mean, variance, gamma] = names.map((name) => f32(backend, inputs[name]));
  const c = channelsOf(inputs.z, [inputs.mean, inputs.variance, inputs.gamma]);
  if (!dy || !z || !mean || !variance || !gamma || c === 0 || z.length === 0 || dy.length !== z.length) return null;
  const dz = output(backend, [...inputs.z!.shape], "float32");
  const [dGamma, dBeta, dBias] = [output(backend, [c], "float32"), output(backend, [c], "float32"), output(backend, [c], "float32")];
  backend.native.batchNormReluGrad(
    dy,
    z,
    mean,
    variance,
    gamma,
    dz.values,
    dGamma.values,
    dBeta.values,
    dBias.values,
    attrs.varianceEpsilon,
  );
  return [dz.info, dGamma.info, dBeta.info, dBias.info];
});
