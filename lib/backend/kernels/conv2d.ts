// Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter on oneDNN (native/src/conv2d.cc).
// The native convolution takes NHWC activations; NCHW tensors are transposed natively on the way in and out.
import { backend_util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelConfig, NativeKernelArgs } from "./util";
import { f32, output, sizeOf } from "./util";
import { NO_EPILOGUE, planEpilogue } from "./fused";

type ConvInfo = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** The native conv parameter list, or null when oneDNN cannot express this geometry (empty, inconsistent padding). */
function convParams(c: ConvInfo): number[] | null {
  const p = [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    c.padInfo.top,
    c.padInfo.left,
    c.padInfo.bottom,
    c.padInfo.right,
  ];
  if (p.some((v) => !(v >= 0)) || p.slice(0, 13).some((v) => v === 0)) return null;
  const fh = (c.filterHeight - 1) * c.dilationHeight + 1;
  const fw = (c.filterWidth - 1) * c.dilationWidth + 1;
  const oh = Math.floor((c.inHeight + c.padInfo.top + c.padInfo.bottom - fh) / c.strideHeight) + 1;
  const ow = Math.floor((c.inWidth + c.padInfo.left + c.padInfo.right - fw) / c.strideWidth) + 1;
  return oh === c.outHeight && ow === c.outWidth ? p : null;
}

/** A geometry with no output elements: nothing to compute (oneDNN rejects zero dimensions). */
function isEmpty(c: ConvInfo): boolean {
  return sizeOf(c.outShape) === 0;
}

/** An NHWC copy of an NCHW array (a temporary the caller releases), or the array itself for NHWC. */
function toNhwc(
  backend: OnednnBackend,
  values: Float32Array,
  shape: readonly number[],
  nchw: boolean,
): { values: Float32Array; temp: TensorInfo | null } {
  if (!nchw) return { values, temp: null };
  const t = output(
    backend,
    TO_NHWC.map((p) => shape[p]),
    "float32",
  );
  backend.native.transpose(values, [...shape], TO_NHWC, t.values);
  return { values: t.values, temp: t.info };
}

/** Runs `fill` on an NHWC array of `nhwcShape` and returns the result in the tensor's layout (NCHW or NHWC). */
function inLayout(backend: OnednnBackend, nhwcShape: number[], nchw: boolean, fill: (out: Float32Array) => void): TensorInfo {
  const y = output(backend, nhwcShape, "float32");
  fill(y.values);
  if (!nchw) return y.info;
  const out = output(
    backend,
    TO_NCHW.map((p) => nhwcShape[p]),
    "float32",
  );
  backend.native.transpose(y.values, nhwcShape, TO_NCHW, out.values);
  backend.disposeIntermediateTensorInfo(y.info);
  return out.info;
}

/**
 * Whether a bias or PReLU weight of `shape`, broadcast onto the conv output as tfjs-cpu's FusedConv2D does,
 * holds one value per output channel, so the native call can add it (it computes in NHWC either way).
 */
function isPerChannel(shape: readonly number[], channels: number, nchw: boolean): boolean {
  const aligned = alignedShape(shape, nchw);
  if (aligned.length > 4) return false;
  const padded = [...Array(4 - aligned.length).fill(1), ...aligned];
  return padded.every((d, i) => d === (i === (nchw ? 1 : 3) ? channels : 1));
}

/** tfjs-cpu's broadcast shape for a bias or PReLU weight on an NCHW output (rank-1 of length > 1 aligns with channels). */
function alignedShape(shape: readonly number[], nchw: boolean): number[] {
  return nchw && shape.length === 1 && shape[0] !== 1 ? [shape[0], 1, 1] : [...shape];
}

function conv2dForward(args: NativeKernelArgs, fused: boolean): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const x = f32(backend, inputs.x),
    w = f32(backend, inputs.filter);
  if (!x || !w || inputs.x!.shape.length !== 4 || inputs.filter!.shape.length !== 4) return null;
  const a = attrs as { strides: number; pad: "valid"; dataFormat: "NHWC" | "NCHW"; dilations: number; dimRoundingMode?: "floor" };
  const nchw = a.dataFormat === "NCHW";
  const info = backend_util.computeConv2DInfo(
    inputs.x!.shape as Shape4,
    inputs.filter!.shape as Shape4,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(a.dataFormat),
  );
  if (inputs.filter!.shape[2] !== info.inChannels) return null;
  const epilogue = fused
    ? planEpilogue(
        args,
        info.outShape,
        (shape) => isPerChannel(shape, info.outChannels, nchw),
        (shape) => alignedShape(shape, nchw),
      )
    : NO_EPILOGUE;
  if (!epilogue) return null;
  if (isEmpty(info)) return epilogue.finish(output(backend, [...info.outShape], "float32").info);
  const params = convParams(info);
  if (!params) return null;
  const xs = toNhwc(backend, x, inputs.x!.shape, nchw);
  const y = inLayout(backend, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], nchw, (out) =>
    backend.native.conv2dForward(xs.values, w, epilogue.bias, out, params, epilogue.code, epilogue.alpha),
  );
  if (xs.temp) backend.disposeIntermediateTensorInfo(xs.temp);
  return epilogue.finish(y);
}

export const conv2dConfig: NativeKernelConfig = { kernelName: "Conv2D", kernelFunc: (args) => conv2dForward(args, false) };
export const fusedConv2dConfig: NativeKernelConfig = { kernelName: "FusedConv2D", kernelFunc: (args) => conv2dForward(args, true) };

export const conv2dBackpropInputConfig: NativeKernelConfig = {
  kernelName: "Conv2DBackpropInput",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy),
      w = f32(backend, inputs.filter);
    if (!dy || !w || inputs.dy!.shape.length !== 4 || inputs.filter!.shape.length !== 4) return null;
    const a = attrs as { inputShape: Shape4; strides: number; pad: "valid"; dataFormat: "NHWC" | "NCHW"; dimRoundingMode?: "floor" };
    const nchw = a.dataFormat === "NCHW";
    const info = backend_util.computeConv2DInfo(
      a.inputShape,
      inputs.filter!.shape as Shape4,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(a.dataFormat),
    );
    // tfjs-cpu also accepts a dy whose shape does not follow from the geometry (TensorFlow rejects it); that stays in JS.
    if (info.outShape.some((d, i) => d !== inputs.dy!.shape[i])) return null;
    const nhwcIn = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
    if (isEmpty(info) || sizeOf(a.inputShape) === 0) {
      const dx = output(backend, [...a.inputShape], "float32");
      backend.native.fill(dx.values, 0);
      return dx.info;
    }
    const params = convParams(info);
    if (!params) return null;
    const dys = toNhwc(backend, dy, inputs.dy!.shape, nchw);
    const dx = inLayout(backend, nhwcIn, nchw, (out) => backend.native.conv2dBackwardData(dys.values, w, out, params));
    if (dys.temp) backend.disposeIntermediateTensorInfo(dys.temp);
    return dx;
  },
};

export const conv2dBackpropFilterConfig: NativeKernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x),
      dy = f32(backend, inputs.dy);
    if (!x || !dy || inputs.x!.shape.length !== 4 || inputs.dy!.shape.length !== 4) return null;
    const a = attrs as { filterShape: Shape4; strides: number; pad: "valid"; dataFormat: "NHWC" | "NCHW"; dimRoundingMode?: "floor" };
    const nchw = a.dataFormat === "NCHW";
    const info = backend_util.computeConv2DInfo(
      inputs.x!.shape as Shape4,
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(a.dataFormat),
    );
    if (info.outShape.some((d, i) => d !== inputs.dy!.shape[i])) return null;
    const dw = output(backend, [...a.filterShape], "float32");
    if (isEmpty(info) || sizeOf(inputs.x!.shape) === 0) {
      backend.native.fill(dw.values, 0);
      return dw.info;
    }
    const params = convParams(info);
    if (!params) {
      backend.disposeIntermediateTensorInfo(dw.info);
      return null;
    }
    const xs = toNhwc(backend, x, inputs.x!.shape, nchw),
      dys = toNhwc(backend, dy, inputs.dy!.shape, nchw);
    backend.native.conv2dBackwardFilter(xs.values, dys.values, dw.values, params);
    for (const t of [xs.temp, dys.temp]) if (t) backend.disposeIntermediateTensorInfo(t);
    return dw.info;
  },
};
