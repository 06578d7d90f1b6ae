// Shared helpers of the native kernels: typed kernel configs, typed access to tensor arrays and output allocation.
import type * as tf from "@tensorflow/tfjs-core";
import type { NamedTensorInfoMap } from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";

/** A kernel's arguments: inputs and attrs typed as tfjs-core declares them for that kernel (`Conv2DInputs`, `Conv2DAttrs`). */
export interface NativeKernelArgs<A extends object = Record<string, unknown>, I extends object = NamedTensorInfoMap> {
  inputs: I;
  backend: OnednnBackend;
  attrs: A;
}

/** A native kernel returns its result, or null to let tfjs's JS kernel handle inputs it does not support. */
export type NativeKernelFunc<A extends object = Record<string, unknown>, I extends object = NamedTensorInfoMap> = (
  args: NativeKernelArgs<A, I>,
) => tf.TensorInfo | tf.TensorInfo[] | null;

export interface NativeKernelConfig {
  kernelName: string;
  kernelFunc: NativeKernelFunc;
}

/** The attrs of a kernel that has none. */
export type NoAttrs = Record<string, never>;

/**
 * A native kernel's config; tfjs's engine passes each kernel the attrs and inputs its op builds, so the function may
 * declare tfjs-core's types for them (as tfjs's own backends do).
 */
export function nativeKernel<A extends object = NoAttrs, I extends object = NamedTensorInfoMap>(
  kernelName: string,
  kernelFunc: NativeKernelFunc<A, I>,
): NativeKernelConfig {
  return { kernelName, kernelFunc: kernelFunc as unknown as NativeKernelFunc };
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
