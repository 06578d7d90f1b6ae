// MaxPool and MaxPoolGrad (native/src/pool.cc): NHWC loops vectorised over channels.
import { MaxPool, MaxPoolGrad, backend_util, util } from "@tensorflow/tfjs-core";
import type { MaxPoolAttrs, MaxPoolGradAttrs, MaxPoolGradInputs, MaxPoolInputs } from "@tensorflow/tfjs-core";
import { f32, nativeKernel, output } from "./util";

/** tfjs's pooling geometry, or null where the native kernel does not apply (dilation, negative sizes). */
function poolInfo(shape: readonly number[], attrs: MaxPoolAttrs | MaxPoolGradAttrs): backend_util.Conv2DInfo | null {
  const c = backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (c.dilationHeight !== 1 || c.dilationWidth !== 1) return null;
  const sizes = [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.filterHeight, c.filterWidth];
  return [...sizes, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left].every((v) => v >= 0) ? c : null;
}

export const maxPoolConfig = nativeKernel<MaxPoolAttrs, MaxPoolInputs>(MaxPool, ({ inputs, backend, attrs }) => {
  const x = f32(backend, inputs.x);
  if (!x || inputs.x!.shape.length !== 4) return null;
  const c = poolInfo(inputs.x!.shape, attrs);
  if (!c) return null;
  // A 1x1 window that keeps the shape returns the input itself, as tfjs's kernels do (and tfjs's own specs
  // expect), even where padding shifts the windows onto the border.
  if (c.filterHeight === 1 && c.filterWidth === 1 && util.arraysEqual(c.inShape, c.outShape)) {
    backend.incRef(inputs.x!.dataId);
    return { dataId: inputs.x!.dataId, shape: [...inputs.x!.shape], dtype: "float32" };
  }
  const y = output(backend, c.outShape, "float32");
  backend.native.maxPool(x, y.values, c);
  return y.info;
});

export const maxPoolGradConfig = nativeKernel<MaxPoolGradAttrs, MaxPoolGradInputs>(MaxPoolGrad, ({ inputs, backend, attrs }) => {
  const dy = f32(backend, inputs.dy),
    x = f32(backend, inputs.input);
  if (!dy || !x || inputs.input!.shape.length !== 4) return null;
  const c = poolInfo(inputs.input!.shape, attrs);
  if (!c || c.outShape.some((d, i) => d !== inputs.dy!.shape[i])) return null;
  const dx = output(backend, [...inputs.input!.shape], "float32");
  backend.native.maxPoolGrad(dy, x, dx.values, c);
  return dx.info;
});
