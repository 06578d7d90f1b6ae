// Sum, Mean, Max, Min, Prod, ArgMax, ArgMin, Any, All (native/src/reduce.cc; float32, int32 for Sum) over any axis set:
// contiguous axes reduce in place as [outer, reduce, inner]; others are transposed to the end first.
import { All, Any, ArgMax, ArgMin, Max, Mean, Min, Prod, Sum, util } from "@tensorflow/tfjs-core";
import type { AllAttrs, ArgMaxAttrs, ArgMinAttrs, MaxAttrs, SumAttrs, TensorInfo, UnaryInputs } from "@tensorflow/tfjs-core";
import type { ReduceOpName } from "../native_binding";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelConfig } from "./util";
import { nativeKernel, numeric, output, sizeOf } from "./util";

function reduce(backend: OnednnBackend, x: TensorInfo, axis: number | number[], keepDims: boolean, op: ReduceOpName): TensorInfo | null {
  const input = numeric(backend, x);
  const wantBool = op === Any || op === All;
  const int32Sum = op === Sum && x.dtype === "int32";
  if (!input || (wantBool ? x.dtype !== "bool" : x.dtype !== "float32" && !int32Sum)) return null;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const reduceSize = sizeOf(axes.map((a) => x.shape[a]));
  // tfjs-cpu's results on empty axes (NaN from reading past its array for max, min, any, all) are left to it.
  if (reduceSize === 0 && op !== Sum && op !== Prod && op !== Mean) return null;
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
  const dtype = op === ArgMax || op === ArgMin || int32Sum ? "int32" : wantBool ? "bool" : "float32";
  const out = output(backend, outShape, dtype);
  const code = backend.native.enums.reduceOp[op];
  const contiguous = axes.length === 0 || axes[axes.length - 1] - axes[0] === axes.length - 1;
  if (contiguous) {
    const first = axes.length ? axes[0] : rank;
    const last = axes.length ? axes[axes.length - 1] : rank - 1;
    backend.native.reduce(code, input, out.values, sizeOf(x.shape.slice(0, first)), reduceSize, sizeOf(x.shape.slice(last + 1)));
  } else {
    const perm = [...x.shape.keys()].filter((i) => !axes.includes(i)).concat(axes);
    const moved = backend.allocate(x.dtype as "float32" | "int32" | "bool", sizeOf(x.shape));
    backend.native.transpose(input, x.shape, perm, moved);
    backend.native.reduce(code, moved, out.values, sizeOf(kept), reduceSize, 1);
  }
  return out.info;
}

/** Sum, Mean, Min, Prod, Any and All share SumAttrs' shape; Max names its axis reductionIndices. */
function reduceConfig(op: Exclude<ReduceOpName, typeof ArgMax | typeof ArgMin | typeof Max>): NativeKernelConfig {
  return nativeKernel<SumAttrs | AllAttrs, UnaryInputs>(op, ({ inputs, backend, attrs }) =>
    inputs.x ? reduce(backend, inputs.x, attrs.axis, Boolean(attrs.keepDims), op) : null,
  );
}

/** ArgMax and ArgMin take one axis and never keep it. */
function argConfig(op: typeof ArgMax | typeof ArgMin): NativeKernelConfig {
  return nativeKernel<ArgMaxAttrs | ArgMinAttrs, UnaryInputs>(op, ({ inputs, backend, attrs }) =>
    inputs.x ? reduce(backend, inputs.x, [attrs.axis], false, op) : null,
  );
}

export const reduceConfigs: NativeKernelConfig[] = [
  reduceConfig(Sum),
  reduceConfig(Mean),
  nativeKernel<MaxAttrs, UnaryInputs>(Max, ({ inputs, backend, attrs }) =>
    inputs.x ? reduce(backend, inputs.x, attrs.reductionIndices, Boolean(attrs.keepDims), Max) : null,
  ),
  reduceConfig(Min),
  reduceConfig(Prod),
  reduceConfig(Any),
  reduceConfig(All),
  argConfig(ArgMax),
  argConfig(ArgMin),
];
