// MaxPool and MaxPoolGrad (native/src/pool.cc): NHWC loops vectorised over channels.
import { backend_util, util } from "@tensorflow/tfjs-core";
import type { NativeKernelConfig } from "./util";
import { f32, output } from "./util";

function poolInfo(shape: number[], attrs: Record<string, unknown>) {
  const a = attrs as { filterSize: number; strides: number; pad: "valid"; dimRoundingMode?: "floor" };
  const c = backend_util.computePool2DInfo(shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  if (c.dilationHeight !== 1 || c.dilationWidth !== 1) return null;
  const params = [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.padInfo.top,
    c.padInfo.left,
  ];
  return params.every((v) => v >= 0) ? { info: c, params } : null;
}

export const maxPoolConfig: NativeKernelConfig = {
  kernelName: "MaxPool",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x || inputs.x!.shape.length !== 4) return null;
    const p = poolInfo(inputs.x!.shape, attrs);
    if (!p) return null;
    // A 1x1 window that keeps the shape returns the input itself, as tfjs's kernels do (and tfjs's own specs
    // expect), even where padding shifts the windows onto the border.
    const c = p.info;
    if (c.filterHeight === 1 && c.filterWidth === 1 && util.arraysEqual(c.inShape, c.outShape)) {
      backend.incRef(inputs.x!.dataId);
      return { dataId: inputs.x!.dataId, shape: [...inputs.x!.shape], dtype: "float32" };
    }
    const y = output(backend, p.info.outShape, "float32");
    backend.native.maxPool(x, y.values, p.params);
    return y.info;
  },
};

export const maxPoolGradConfig: NativeKernelConfig = {
  kernelName: "MaxPoolGrad",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy),
      x = f32(backend, inputs.input);
    if (!dy || !x || inputs.input!.shape.length !== 4) return null;
    const p = poolInfo(inputs.input!.shape, attrs);
    if (!p || p.info.outShape.some((d, i) => d !== inputs.dy!.shape[i])) return null;
    const dx = output(backend, [...inputs.input!.shape], "float32");
    backend.native.maxPoolGrad(dy, x, dx.values, p.params);
    return dx.info;
  },
};
