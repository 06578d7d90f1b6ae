// Cast, Transpose, Tile, Slice, Concat (native/src/shape_ops.cc) and the zero-copy Reshape and Identity,
// which only relabel an existing array (as tfjs-cpu does) and so never run JS loops.
import { Cast, Concat, Identity, Reshape, Slice, Tile, Transpose, slice_util, util } from "@tensorflow/tfjs-core";
import type {
  CastAttrs,
  ConcatAttrs,
  NamedTensorInfoMap,
  ReshapeAttrs,
  SliceAttrs,
  TensorInfo,
  TileAttrs,
  TransposeAttrs,
  UnaryInputs,
} from "@tensorflow/tfjs-core";
import type { NativeBinding } from "../native_binding";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelConfig, NoAttrs } from "./util";
import { nativeKernel, numeric, output, sizeOf } from "./util";

type NumericDtype = "float32" | "int32" | "bool";
type Numeric = Float32Array | Int32Array | Uint8Array;
const NUMERIC = ["float32", "int32", "bool"];

/** The same array under another shape (the backend's reference count rises), when x is numeric. */
function relabel(backend: OnednnBackend, x: TensorInfo | undefined, shape: (x: TensorInfo) => number[]): TensorInfo | null {
  if (!x || !NUMERIC.includes(x.dtype)) return null;
  const s = shape(x);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: s, dtype: x.dtype };
}

export const identityConfig = nativeKernel<NoAttrs, UnaryInputs>(Identity, ({ inputs, backend }) =>
  relabel(backend, inputs.x, (x) => [...x.shape]),
);

export const reshapeConfig = nativeKernel<ReshapeAttrs, UnaryInputs>(Reshape, ({ inputs, backend, attrs }) =>
  relabel(backend, inputs.x, (x) => {
    const size = sizeOf(x.shape);
    const shape = util.inferFromImplicitShape(attrs.shape, size);
    if (sizeOf(shape) !== size) {
      throw new Error(`Expected a shape with ${size} elements for reshape of [${x.shape}] but found [${shape}]`);
    }
    return shape;
  }),
);

export const castConfig = nativeKernel<CastAttrs, UnaryInputs>(Cast, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  if (!x || !NUMERIC.includes(x.dtype) || !NUMERIC.includes(attrs.dtype)) return null;
  if (x.dtype === attrs.dtype) return relabel(backend, x, () => [...x.shape]);
  const input = numeric(backend, x);
  if (!input) return null;
  const out = output(backend, [...x.shape], attrs.dtype as NumericDtype);
  backend.native.cast(input, out.values);
  return out.info;
});

/**
 * A kernel that copies a numeric tensor x of rank 1 or more into a new one of x's dtype: `plan` gives the output
 * shape and the native call that fills it, or null for inputs the native kernel leaves to JS.
 */
function copyKernel<A extends object>(
  kernelName: string,
  plan: (x: TensorInfo, attrs: A) => { shape: number[]; copy: (native: NativeBinding, input: Numeric, out: Numeric) => void } | null,
): NativeKernelConfig {
  return nativeKernel<A, UnaryInputs>(kernelName, ({ inputs, backend, attrs }) => {
    const x = inputs.x,
      input = numeric(backend, x);
    if (!x || !input || x.shape.length === 0) return null;
    const p = plan(x, attrs);
    if (!p) return null;
    const out = output(backend, p.shape, x.dtype as NumericDtype);
    p.copy(backend.native, input, out.values);
    return out.info;
  });
}

export const transposeConfig = copyKernel<TransposeAttrs>(Transpose, (x, { perm }) => ({
  shape: perm.map((p) => x.shape[p]),
  copy: (native, input, out) => native.transpose(input, x.shape, perm, out),
}));

export const tileConfig = copyKernel<TileAttrs>(Tile, (x, { reps }) =>
  reps.length !== x.shape.length
    ? null
    : { shape: x.shape.map((d, i) => d * reps[i]), copy: (native, input, out) => native.tile(input, x.shape, reps, out) },
);

export const sliceConfig = copyKernel<SliceAttrs>(Slice, (x, attrs) => {
  const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin, attrs.size);
  slice_util.assertParamsValid(x as never, begin, size);
  return { shape: size, copy: (native, input, out) => native.slice(input, x.shape, begin, size, out) };
});

export const concatConfig = nativeKernel<ConcatAttrs, NamedTensorInfoMap>(Concat, ({ inputs, backend, attrs }) => {
  const xs = Object.keys(inputs)
    .sort((p, q) => Number(p) - Number(q))
    .map((k) => inputs[k]!);
  if (xs.length === 0) return null;
  const dtype = xs[0].dtype;
  const arrays = xs.map((x) => (x.dtype === dtype ? numeric(backend, x) : null));
  if (arrays.some((a) => a === null) || xs.some((x) => x.shape.length !== xs[0].shape.length) || xs[0].shape.length === 0) return null;
  const axis = util.parseAxisParam(attrs.axis, xs[0].shape)[0];
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((sum, x) => sum + x.shape[axis], 0);
  if (xs.some((x) => x.shape.some((d, i) => i !== axis && d !== shape[i]))) return null;
  const outer = sizeOf(shape.slice(0, axis));
  const out = output(backend, shape, dtype as NumericDtype);
  backend.native.concat(
    arrays as Numeric[],
    xs.map((x) => sizeOf(x.shape.slice(axis))),
    outer,
    out.values,
  );
  return out.info;
});

export const shapeOpConfigs: NativeKernelConfig[] = [
  identityConfig,
  reshapeConfig,
  castConfig,
  transposeConfig,
  tileConfig,
  sliceConfig,
  concatConfig,
];
