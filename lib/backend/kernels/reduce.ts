// Sum, Mean, Max, Min, Prod, ArgMax, ArgMin, Any, All (native/src/reduce.cc; float32, int32 for Sum) over any axis set:
// contiguous axes reduce in place as [outer, reduce, inner]; others are transposed to the end first.
import { util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelConfig } from "./util";
import { numeric, output, sizeOf } from "./util";

// Op codes of native/src/reduce.cc.
const SUM = 0,
  MEAN = 1,
  MAX = 2,
  MIN = 3,
  PROD = 4,
  ARGMAX = 5,
  ARGMIN = 6,
  ANY = 7,
  ALL = 8;

function reduce(backend: OnednnBackend, x: TensorInfo, axisAttr: unknown, keepDims: boolean, op: number): TensorInfo | null {
  const input = numeric(backend, x);
  const wantBool = op === ANY || op === ALL;
  const int32Sum = op === SUM && x.dtype === "int32";
  if (!input || (wantBool ? x.dtype !== "bool" : x.dtype !== "float32" && !int32Sum)) return null;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axisAttr as number | number[], x.shape).sort((p, q) => p - q);
  const reduceSize = sizeOf(axes.map((a) => x.shape[a]));
  // tfjs-cpu's results on empty axes (NaN from reading past its array for max, min, any, all) are left to it.
  if (reduceSize === 0 && op !== SUM && op !== PROD && op !== MEAN) return null;
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
  const dtype = op === ARGMAX || op === ARGMIN || int32Sum ? "int32" : wantBool ? "bool" : "float32";
  const out = output(backend, outShape, dtype);
  const contiguous = axes.length === 0 || axes[axes.length - 1] - axes[0] === axes.length - 1;
  if (contiguous) {
    const first = axes.length ? axes[0] : rank;
    const last = axes.length ? axes[axes.length - 1] : rank - 1;
    backend.native.reduce(op, input, out.values, sizeOf(x.shape.slice(0, first)), reduceSize, sizeOf(x.shape.slice(last + 1)));
  } else {
    const perm = [...x.shape.keys()].filter((i) => !axes.includes(i)).concat(axes);
    const moved = backend.allocate(x.dtype as "float32" | "int32" | "bool", sizeOf(x.shape));
    backend.native.transpose(input, x.shape, perm, moved);
    backend.native.reduce(op, moved, out.values, sizeOf(kept), reduceSize, 1);
  }
  return out.info;
}

function reduceConfig(kernelName: string, op: number, axisKey: string): NativeKernelConfig {
  return {
    kernelName,
    kernelFunc: ({ inputs, backend, attrs }) => (inputs.x ? reduce(backend, inputs.x, attrs[axisKey], Boolean(attrs.keepDims), op) : null),
  };
}

export const reduceConfigs: NativeKernelConfig[] = [
  reduceConfig("Sum", SUM, "axis"),
  reduceConfig("Mean", MEAN, "axis"),
  reduceConfig("Max", MAX, "reductionIndices"),
  reduceConfig("Min", MIN, "axis"),
  reduceConfig("Prod", PROD, "axis"),
  reduceConfig("Any", ANY, "axis"),
  reduceConfig("All", ALL, "axis"),
  // ArgMax/ArgMin take one axis and never keep it.
  {
    kernelName: "ArgMax",
    kernelFunc: ({ inputs, backend, attrs }) => (inputs.x ? reduce(backend, inputs.x, [attrs.axis as number], false, ARGMAX) : null),
  },
  {
    kernelName: "ArgMin",
    kernelFunc: ({ inputs, backend, attrs }) => (inputs.x ? reduce(backend, inputs.x, [attrs.axis as number], false, ARGMIN) : null),
  },
];
