// Cast, Transpose, Tile, Slice (native/src/shape_ops.cc) and the zero-copy Reshape and Identity,
// which only relabel an existing array (as tfjs-cpu does) and so never run JS loops.
import { slice_util, util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeKernelConfig } from "./util";
import { numeric, output, sizeOf } from "./util";

type NumericDtype = "float32" | "int32" | "bool";
const NUMERIC = ["float32", "int32", "bool"];

export const identityConfig: NativeKernelConfig = {
  kernelName: "Identity",
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x;
    if (!x || !NUMERIC.includes(x.dtype)) return null;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  },
};

export const reshapeConfig: NativeKernelConfig = {
  kernelName: "Reshape",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!x || !NUMERIC.includes(x.dtype)) return null;
    const size = sizeOf(x.shape);
    const shape = util.inferFromImplicitShape(attrs.shape as number[], size);
    if (sizeOf(shape) !== size) {
      throw new Error(`Expected a shape with ${size} elements for reshape of [${x.shape}] but found [${shape}]`);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype: x.dtype };
  },
};

export const castConfig: NativeKernelConfig = {
  kernelName: "Cast",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const dtype = attrs.dtype as string;
    if (!x || !NUMERIC.includes(x.dtype) || !NUMERIC.includes(dtype)) return null;
    if (x.dtype === dtype) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype } as TensorInfo;
    }
    const input = numeric(backend, x);
    if (!input) return null;
    const out = output(backend, [...x.shape], dtype as NumericDtype);
    backend.native.cast(input, out.values);
    return out.info;
  },
};

export const transposeConfig: NativeKernelConfig = {
  kernelName: "Transpose",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x,
      input = numeric(backend, x);
    if (!x || !input || x.shape.length === 0) return null;
    const perm = attrs.perm as number[];
    const out = output(
      backend,
      perm.map((p) => x.shape[p]),
      x.dtype as NumericDtype,
    );
    backend.native.transpose(input, x.shape, perm, out.values);
    return out.info;
  },
};

export const tileConfig: NativeKernelConfig = {
  kernelName: "Tile",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x,
      input = numeric(backend, x);
    const reps = attrs.reps as number[];
    if (!x || !input || x.shape.length === 0 || reps.length !== x.shape.length) return null;
    const out = output(
      backend,
      x.shape.map((d, i) => d * reps[i]),
      x.dtype as NumericDtype,
    );
    backend.native.tile(input, x.shape, reps, out.values);
    return out.info;
  },
};

export const sliceConfig: NativeKernelConfig = {
  kernelName: "Slice",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x,
      input = numeric(backend, x);
    if (!x || !input || x.shape.length === 0) return null;
    const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin as number[], attrs.size as number[]);
    slice_util.assertParamsValid(x as never, begin, size);
    const out = output(backend, size, x.dtype as NumericDtype);
    backend.native.slice(input, x.shape, begin, size, out.values);
    return out.info;
  },
};

export const concatConfig: NativeKernelConfig = {
  kernelName: "Concat",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const xs = Object.keys(inputs)
      .sort((p, q) => Number(p) - Number(q))
      .map((k) => inputs[k]!);
    if (xs.length === 0) return null;
    const dtype = xs[0].dtype;
    const arrays = xs.map((x) => (x.dtype === dtype ? numeric(backend, x) : null));
    if (arrays.some((a) => a === null) || xs.some((x) => x.shape.length !== xs[0].shape.length) || xs[0].shape.length === 0) return null;
    const axis = util.parseAxisParam(attrs.axis as number, xs[0].shape)[0];
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((sum, x) => sum + x.shape[axis], 0);
    if (xs.some((x) => x.shape.some((d, i) => i !== axis && d !== shape[i]))) return null;
    const outer = sizeOf(shape.slice(0, axis));
    const out = output(backend, shape, dtype as NumericDtype);
    backend.native.concat(
      arrays as Array<Float32Array | Int32Array | Uint8Array>,
      xs.map((x) => sizeOf(x.shape.slice(axis))),
      outer,
      out.values,
    );
    return out.info;
  },
};

export const shapeOpConfigs: NativeKernelConfig[] = [
  identityConfig,
  reshapeConfig,
  castConfig,
  transposeConfig,
  tileConfig,
  sliceConfig,
  concatConfig,
];
