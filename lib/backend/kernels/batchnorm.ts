// FusedBatchNorm with given mean and variance (native/src/batchnorm.cc).
import { FusedBatchNorm } from "@tensorflow/tfjs-core";
import type { FusedBatchNormAttrs, FusedBatchNormInputs, TensorInfo } from "@tensorflow/tfjs-core";
import { f32, nativeKernel, output, sizeOf } from "./util";

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
 * Inputs {z, gamma, beta, movingMean, movingVariance} with z = [..., C]; attrs {varianceEpsilon, momentum}; outputs
 * [y, batch mean, batch variance, moving mean, moving variance] (the last two as tfjs-layers updates them).
 */
export const BATCH_NORM_RELU_TRAIN = "OnednnBatchNormReluTrain";
/** Its backward pass and the conv bias's gradient: inputs {dy, z, mean, variance, gamma, at?}; outputs [dz, dGamma, dBeta, dBias]. */
export const BATCH_NORM_RELU_GRAD = "OnednnBatchNormReluGrad";

export interface BatchNormReluAttrs {
  varianceEpsilon: number;
  /** BatchNormReluTrain's moving-average momentum. */
  momentum?: number;
  /**
   * With a 2×2, stride-2, 'valid' max-pool after the BatchNorm (z = [n, h, w, C]): the forward kernel outputs the pooled
   * y and, last, each window's winner (int32, 0..3); the gradient kernel takes the pooled dy and those winners (`at`).
   */
  pool?: boolean;
}

/** The pooled shape of z = [n, h, w, C] under BatchNormReluAttrs.pool, or null when z is not 4-d. */
function pooledShape(z: TensorInfo): number[] | null {
  const [n, h, w, c] = z.shape;
  return z.shape.length === 4 && h >= 2 && w >= 2 ? [n, Math.floor(h / 2), Math.floor(w / 2), c] : null;
}

/** The channel count of z = [..., C] when `perChannel` all hold C values, else 0. */
function channelsOf(z: TensorInfo | undefined, perChannel: Array<TensorInfo | undefined>): number {
  const c = z?.shape[z.shape.length - 1] ?? 0;
  return c > 0 && perChannel.every((t) => t?.shape.length === 1 && t.shape[0] === c) ? c : 0;
}

export const batchNormReluTrainConfig = nativeKernel<BatchNormReluAttrs>(BATCH_NORM_RELU_TRAIN, ({ inputs, backend, attrs }) => {
  const names = ["z", "gamma", "beta", "movingMean", "movingVariance"] as const;
  const [z, gamma, beta, movingMean, movingVariance] = names.map((name) => f32(backend, inputs[name]));
  const c = channelsOf(inputs.z, [inputs.gamma, inputs.beta, inputs.movingMean, inputs.movingVariance]);
  if (!z || !gamma || !beta || !movingMean || !movingVariance || c === 0 || z.length === 0 || attrs.momentum == null) return null;
  const pooled = attrs.pool ? pooledShape(inputs.z!) : null;
  if (attrs.pool && !pooled) return null;
  const y = output(backend, pooled ?? [...inputs.z!.shape], "float32");
  const winners = pooled ? output(backend, pooled, "int32") : null;
  const [mean, variance, newMean, newVariance] = [0, 1, 2, 3].map(() => output(backend, [c], "float32"));
  backend.native.batchNormReluTrain(
    z,
    gamma,
    beta,
    movingMean,
    movingVariance,
    y.values,
    mean.values,
    variance.values,
    newMean.values,
    newVariance.values,
    attrs.varianceEpsilon,
    attrs.momentum,
    winners?.values ?? null,
    inputs.z!.shape[1] ?? 0,
    inputs.z!.shape[2] ?? 0,
  );
  const outputs = [y.info, mean.info, variance.info, newMean.info, newVariance.info];
  return winners ? [...outputs, winners.info] : outputs;
});

export const batchNormReluGradConfig = nativeKernel<BatchNormReluAttrs>(BATCH_NORM_RELU_GRAD, ({ inputs, backend, attrs }) => {
  const names = ["dy", "z", "mean", "variance", "gamma"] as const;
  const [dy, z, mean, variance, gamma] = names.map((name) => f32(backend, inputs[name]));
  const c = channelsOf(inputs.z, [inputs.mean, inputs.variance, inputs.gamma]);
  const pooled = attrs.pool ? pooledShape(inputs.z!) : null;
  const winners = pooled && inputs.at ? backend.data.get(inputs.at.dataId)?.values : null;
  if (attrs.pool && (!pooled || !(winners instanceof Int32Array))) return null;
  const dySize = pooled ? sizeOf(pooled) : z?.length;
  if (!dy || !z || !mean || !variance || !gamma || c === 0 || z.length === 0 || dy.length !== dySize) return null;
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
    (winners as Int32Array | null) ?? null,
    inputs.z!.shape[1] ?? 0,
    inputs.z!.shape[2] ?? 0,
  );
  return [dz.info, dGamma.info, dBeta.info, dBias.info];
});
