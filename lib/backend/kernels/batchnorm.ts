// FusedBatchNorm with given mean and variance (native/src/batchnorm.cc).
import { FusedBatchNorm } from "@tensorflow/tfjs-core";
import type { FusedBatchNormAttrs, FusedBatchNormInputs } from "@tensorflow/tfjs-core";
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
