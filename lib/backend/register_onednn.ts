// Registers the "onednn" backend: every cpu kernel copied, the native ones (kernels/index.ts) replacing theirs, each
// counted. It lives apart from the backend class so the kernels, which need the class, never import their registrar.
import * as tf from "@tensorflow/tfjs-core";
import type { NativeBinding } from "./native_binding";
import { NATIVE_KERNELS, type NativeKernelArgs } from "./kernels";
import { installOnednnGradients } from "./gradients";
import { ONEDNN_BACKEND_NAME, OnednnBackend } from "./onednn_backend";

const NATIVE_KERNEL_NAMES = new Set(NATIVE_KERNELS.map((k) => k.kernelName));

/** How kernels ran on the onednn backend since the last reset, as kernel name -> calls. */
export interface KernelCallCounts {
  /** Ran in the addon (or zero-copy, like Reshape). */
  native: Record<string, number>;
  /**
   * Have a native version but ran in tfjs-cpu's JS kernel: the native one declined the inputs (dtype, layout,
   * shapes it does not handle) or MNIST_ONEDNN_JS_KERNELS switched it off. Tests fail on these.
   */
  fallback: Record<string, number>;
  /** Ran in JS, fallbacks included (most have no native version). */
  js: Record<string, number>;
}

// Counted per process rather than per backend instance: tfjs's engine.reset() replaces the instance.
const callCounts = { native: new Map<string, number>(), fallback: new Map<string, number>(), js: new Map<string, number>() };
const count = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);

/** Kernel calls on the onednn backend since the last reset: native, fallen back to JS, and all JS. */
export function getKernelCallCounts(): KernelCallCounts {
  return {
    native: Object.fromEntries(callCounts.native),
    fallback: Object.fromEntries(callCounts.fallback),
    js: Object.fromEntries(callCounts.js),
  };
}

/** Zeroes every count of getKernelCallCounts. */
export function resetKernelCallCounts(): void {
  for (const map of Object.values(callCounts)) map.clear();
}

/** Names of the kernels with a native (or zero-copy) implementation on the onednn backend. */
export function nativeKernelNames(): string[] {
  return NATIVE_KERNELS.map((k) => k.kernelName).sort();
}

/**
 * Registers the "onednn" backend over a loaded addon: every cpu kernel copied, the native ones replacing theirs.
 * Idempotent; returns false when it was already registered.
 */
export function registerOnednnBackend(native: NativeBinding, priority = 0): boolean {
  if (tf.findBackendFactory(ONEDNN_BACKEND_NAME) != null) return false;
  tf.registerBackend(ONEDNN_BACKEND_NAME, () => new OnednnBackend(native), priority);
  // MNIST_ONEDNN_JS_KERNELS=Name,Name keeps those kernels in JS (for bisecting a numerical difference).
  const forcedJs = new Set((process.env.MNIST_ONEDNN_JS_KERNELS ?? "").split(",").filter(Boolean));
  const natives = new Map(NATIVE_KERNELS.filter((k) => !forcedJs.has(k.kernelName)).map((k) => [k.kernelName, k.kernelFunc]));
  for (const config of tf.getKernelsForBackend("cpu")) {
    const name = config.kernelName;
    const cpuFunc = config.kernelFunc;
    const hasNative = NATIVE_KERNEL_NAMES.has(name);
    const runJs: tf.KernelFunc = (args) => {
      count(callCounts.js, name);
      if (hasNative) count(callCounts.fallback, name);
      const backend = args.backend as OnednnBackend;
      // A JS kernel may keep a view of its inputs (cpu Slice does), so those arrays must never be recycled.
      // Some kernels take a list of tensors as one input (RaggedGather's paramsNestedSplits).
      for (const input of Object.values(args.inputs) as Array<tf.TensorInfo | tf.TensorInfo[] | undefined>) {
        for (const t of Array.isArray(input) ? input : [input]) if (t) backend.escape(t.dataId);
      }
      return cpuFunc(args);
    };
    const nativeFunc = natives.get(name);
    const kernelFunc: tf.KernelFunc = nativeFunc
      ? (args) => {
          const out = nativeFunc(args as unknown as NativeKernelArgs);
          if (out == null) return runJs(args);
          count(callCounts.native, name);
          return out;
        }
      : runJs;
    tf.registerKernel({ ...config, backendName: ONEDNN_BACKEND_NAME, kernelFunc });
  }
  for (const [name, nativeFunc] of natives) {
    if (tf.getKernel(name, ONEDNN_BACKEND_NAME) == null) {
      tf.registerKernel({
        kernelName: name,
        backendName: ONEDNN_BACKEND_NAME,
        kernelFunc: (args) => {
          const r = nativeFunc(args as unknown as NativeKernelArgs);
          if (r == null) throw new Error(`Expected inputs the native ${name} kernel accepts (it has no JS fallback) but found others`);
          count(callCounts.native, name);
          return r;
        },
      });
    }
  }
  installOnednnGradients(ONEDNN_BACKEND_NAME);
  return true;
}
