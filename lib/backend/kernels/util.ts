// Shared helpers of the native kernels: typed access to tensor arrays and output allocation.
import type * as tf from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";

export interface NativeKernelArgs {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: OnednnBackend;
  attrs: Record<string, unknown>;
}

/** A native kernel returns its result, or null to let tfjs's JS kernel handle inputs it does not support. */
export type NativeKernelFunc = (args: NativeKernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

export interface NativeKernelConfig {
  kernelName: string;
  kernelFunc: NativeKernelFunc;
}

type Numeric = Float32Array | Int32Array | Uint8Array;

/** The tensor's array when it is float32 and stored as a Float32Array, else null. */
export function f32(backend: OnednnBackend, t: tf.TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== "float32") return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

/** The array of a float32, int32 or bool tensor, else null (complex, string). */
export function numeric(backend: OnednnBackend, t: tf.TensorInfo | undefined): Numeric | null {
  if (!t) return null;
  const v = backend.data.get(t.dataId)?.values;
  if (t.dtype === "float32" && v instanceof Float32Array) return v;
  if (t.dtype === "int32" && v instanceof Int32Array) return v;
  if (t.dtype === "bool" && v instanceof Uint8Array) return v;
  return null;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A new output tensor of the backend with a (possibly recycled) array the native kernel fills. */
export function output<D extends "float32" | "int32" | "bool">(
  backend: OnednnBackend,
  shape: number[],
  dtype: D,
): { info: tf.TensorInfo; values: D extends "float32" ? Float32Array : D extends "int32" ? Int32Array : Uint8Array } {
  const values = backend.allocate(dtype, sizeOf(shape));
  const info = backend.makeTensorInfo(shape, dtype, values);
  return { info, values: values as never };
}
