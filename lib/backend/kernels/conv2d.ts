// Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter on oneDNN (native/src/conv2d.cc).
// The native convolution takes NHWC activations; NCHW tensors are transposed natively on the way in and out.
import { Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, FusedConv2D, backend_util } from "@tensorflow/tfjs-core";
import type {
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  Conv2DInputs,
  FusedConv2DAttrs,
  FusedConv2DInputs,
  TensorInfo,
} from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelArgs } from "./util";
import { f32, nativeKernel, output, sizeOf } from "./util";
import { noEpilogue, planEpilogue } from "./fused";

type ConvInfo = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** The backend's conv precision (setConvPrecision) as the addon's code. */
const precision = (backend: OnednnBackend) => backend.native.enums.convPrecision[backend.convPrecision];

/** tfjs's geometry of a conv of these shapes under a kernel's attrs, and whether its tensors are NCHW. */
function geometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<Conv2DAttrs, "strides" | "pad" | "dataFormat" | "dimRoundingMode"> & { dilations?: Conv2DAttrs["dilations"] },
): { info: ConvInfo; nchw: boolean } {
  const info = backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  return { info, nchw: attrs.dataFormat === "NCHW" };
}

/** Whether oneDNN can express the geometry: no zero sizes, and the output size following from input, filter, stride and padding. */
function isNativeGeometry(c: ConvInfo): boolean {
  const sizes = [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.outChannels];
  const steps = [c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth];
  const pads = [c.padInfo.top, c.padInfo.left, c.padInfo.bottom, c.padInfo.right];
  if ([...sizes, ...steps].some((v) => !(v > 0)) || pads.some((v) => !(v >= 0))) return false;
  const fh = (c.filterHeight - 1) * c.dilationHeight + 1;
  const fw = (c.filterWidth - 1) * c.dilationWidth + 1;
  const oh = Math.floor((c.inHeight + c.padInfo.top + c.padInfo.bottom - fh) / c.strideHeight) + 1;
  const ow = Math.floor((c.inWidth + c.padInfo.left + c.padInfo.right - fw) / c.strideWidth) + 1;
  return oh === c.outHeight && ow === c.outWidth;
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

function conv2dForward(args: NativeKernelArgs<Conv2DAttrs | FusedConv2DAttrs, Conv2DInputs>, fused: boolean): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const x = f32(backend, inputs.x),
    w = f32(backend, inputs.filter);
  if (!x || !w || inputs.x!.shape.length !== 4 || inputs.filter!.shape.length !== 4) return null;
  const { info, nchw } = geometry(inputs.x!.shape, inputs.filter!.shape, attrs);
  if (inputs.filter!.shape[2] !== info.inChannels) return null;
  const epilogue = fused
    ? planEpilogue(
        args as NativeKernelArgs<FusedConv2DAttrs, FusedConv2DInputs>,
        info.outShape,
        (shape) => isPerChannel(shape, info.outChannels, nchw),
        (shape) => alignedShape(shape, nchw),
      )
    : noEpilogue(backend);
  if (!epilogue) return null;
  if (isEmpty(info)) return epilogue.finish(output(backend, [...info.outShape], "float32").info);
  if (!isNativeGeometry(info)) return null;
  const xs = toNhwc(backend, x, inputs.x!.shape, nchw);
  const y = inLayout(backend, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], nchw, (out) =>
    backend.native.conv2dForward(xs.values, w, epilogue.bias, out, info, epilogue.activation, epilogue.alpha, precision(backend)),
  );
  if (xs.temp) backend.disposeIntermediateTensorInfo(xs.temp);
  return epilogue.finish(y);
}

export const conv2dConfig = nativeKernel<Conv2DAttrs, Conv2DInputs>(Conv2D, (args) => conv2dForward(args, false));
export const fusedConv2dConfig = nativeKernel<FusedConv2DAttrs, FusedConv2DInputs>(FusedConv2D, (args) => conv2dForward(args, true));

/**
 * A backward pass with the geometry of x and the filter (dilations 1, as tfjs's gradients call it): zeros of
 * `outShape` when there is nothing to compute, else `run`'s result. Null where it stays in JS: a dy whose shape does
 * not follow from the geometry (tfjs-cpu accepts one, TensorFlow rejects it) and geometries oneDNN cannot express.
 */
function backprop(
  backend: OnednnBackend,
  shapes: { x: readonly number[]; filter: readonly number[]; dy: readonly number[]; out: readonly number[] },
  attrs: Conv2DBackpropInputAttrs | Conv2DBackpropFilterAttrs,
  run: (info: ConvInfo, nchw: boolean) => TensorInfo,
): TensorInfo | null {
  if (shapes.dy.length !== 4 || shapes.filter.length !== 4 || shapes.x.length !== 4) return null;
  const { info, nchw } = geometry(shapes.x, shapes.filter, attrs);
  if (info.outShape.some((d, i) => d !== shapes.dy[i])) return null;
  if (isEmpty(info) || sizeOf(shapes.x) === 0) {
    const zeros = output(backend, [...shapes.out], "float32");
    backend.native.fill(zeros.values, 0);
    return zeros.info;
  }
  return isNativeGeometry(info) ? run(info, nchw) : null;
}

export const conv2dBackpropInputConfig = nativeKernel<Conv2DBackpropInputAttrs, Conv2DBackpropInputInputs>(
  Conv2DBackpropInput,
  ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy),
      w = f32(backend, inputs.filter);
    if (!dy || !w) return null;
    const { inputShape } = attrs;
    const shapes = { x: inputShape, filter: inputs.filter!.shape, dy: inputs.dy!.shape, out: inputShape };
    return backprop(backend, shapes, attrs, (info, nchw) => {
      const dys = toNhwc(backend, dy, shapes.dy, nchw);
      const nhwcIn = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
      const dx = inLayout(backend, nhwcIn, nchw, (out) => backend.native.conv2dBackwardData(dys.values, w, out, info, precision(backend)));
      if (dys.temp) backend.disposeIntermediateTensorInfo(dys.temp);
      return dx;
    });
  },
);

export const conv2dBackpropFilterConfig = nativeKernel<Conv2DBackpropFilterAttrs, Conv2DBackpropFilterInputs>(
  Conv2DBackpropFilter,
  ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x),
      dy = f32(backend, inputs.dy);
    if (!x || !dy) return null;
    const { filterShape } = attrs;
    const shapes = { x: inputs.x!.shape, filter: filterShape, dy: inputs.dy!.shape, out: filterShape };
    return backprop(backend, shapes, attrs, (info, nchw) => {
      const dw = output(backend, [...filterShape], "float32");
      const xs = toNhwc(backend, x, shapes.x, nchw),
        dys = toNhwc(backend, dy, shapes.dy, nchw);
      backend.native.conv2dBackwardFilter(xs.values, dys.values, dw.values, info, precision(backend));
      for (const t of [xs.temp, dys.temp]) if (t) backend.disposeIntermediateTensorInfo(t);
      return dw.info;
    });
  },
);
