// Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter on oneDNN (native/src/conv2d.cc).
import { backend_util } from "@tensorflow/tfjs-core";
import type { NativeKernelConfig, NativeKernelArgs } from "./util";
import { f32, fusedEpilogue, output } from "./util";

type ConvInfo = backend_util.Conv2DInfo;

/** The native conv parameter list, or null when oneDNN cannot express this geometry (NCHW, empty, inconsistent padding). */
function convParams(c: ConvInfo): number[] | null {
  if (c.dataFormat !== "channelsLast") return null;
  const p = [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.outChannels,
    c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth,
    c.padInfo.top, c.padInfo.left, c.padInfo.bottom, c.padInfo.right];
  if (p.some((v) => !(v >= 0)) || p.slice(0, 13).some((v) => v === 0)) return null;
  const fh = (c.filterHeight - 1) * c.dilationHeight + 1;
  const fw = (c.filterWidth - 1) * c.dilationWidth + 1;
  const oh = Math.floor((c.inHeight + c.padInfo.top + c.padInfo.bottom - fh) / c.strideHeight) + 1;
  const ow = Math.floor((c.inWidth + c.padInfo.left + c.padInfo.right - fw) / c.strideWidth) + 1;
  return oh === c.outHeight && ow === c.outWidth ? p : null;
}

function conv2dForward(args: NativeKernelArgs, fused: boolean) {
  const { inputs, backend, attrs } = args;
  const x = f32(backend, inputs.x), w = f32(backend, inputs.filter);
  if (!x || !w || inputs.x!.shape.length !== 4 || inputs.filter!.shape.length !== 4) return null;
  const a = attrs as { strides: number; pad: "valid"; dataFormat: "NHWC"; dilations: number; dimRoundingMode?: "floor" };
  const info = backend_util.computeConv2DInfo(inputs.x!.shape as [number, number, number, number],
    inputs.filter!.shape as [number, number, number, number], a.strides, a.dilations, a.pad, a.dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(a.dataFormat));
  const params = convParams(info);
  if (!params) return null;
  const epilogue = fusedEpilogue(args, fused, (bias) => bias.length === info.outChannels);
  if (!epilogue) return null;
  const { bias, act } = epilogue;
  const y = output(backend, info.outShape, "float32");
  backend.native.conv2dForward(x, w, bias, y.values, params, act.code, act.alpha);
  return y.info;
}

export const conv2dConfig: NativeKernelConfig = { kernelName: "Conv2D", kernelFunc: (args) => conv2dForward(args, false) };
export const fusedConv2dConfig: NativeKernelConfig = { kernelName: "FusedConv2D", kernelFunc: (args) => conv2dForward(args, true) };

export const conv2dBackpropInputConfig: NativeKernelConfig = {
  kernelName: "Conv2DBackpropInput",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy), w = f32(backend, inputs.filter);
    if (!dy || !w || inputs.dy!.shape.length !== 4 || inputs.filter!.shape.length !== 4) return null;
    const a = attrs as { inputShape: [number, number, number, number]; strides: number; pad: "valid"; dataFormat: "NHWC"; dimRoundingMode?: "floor" };
    const info = backend_util.computeConv2DInfo(a.inputShape, inputs.filter!.shape as [number, number, number, number],
      a.strides, 1, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    const params = convParams(info);
    if (!params || info.outShape.some((d, i) => d !== inputs.dy!.shape[i])) return null;
    const dx = output(backend, [...a.inputShape], "float32");
    backend.native.conv2dBackwardData(dy, w, dx.values, params);
    return dx.info;
  },
};

export const conv2dBackpropFilterConfig: NativeKernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x), dy = f32(backend, inputs.dy);
    if (!x || !dy || inputs.x!.shape.length !== 4 || inputs.dy!.shape.length !== 4) return null;
    const a = attrs as { filterShape: [number, number, number, number]; strides: number; pad: "valid"; dataFormat: "NHWC"; dimRoundingMode?: "floor" };
    const info = backend_util.computeConv2DInfo(inputs.x!.shape as [number, number, number, number], a.filterShape,
      a.strides, 1, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat));
    const params = convParams(info);
    if (!params || info.outShape.some((d, i) => d !== inputs.dy!.shape[i])) return null;
    const dw = output(backend, [...a.filterShape], "float32");
    backend.native.conv2dBackwardFilter(x, dy, dw.values, params);
    return dw.info;
  },
};
