// The "onednn" backend: tfjs's cpu backend (tensors stay JS TypedArrays) with the hot kernels replaced by
// the oneDNN addon. Its kernels are registered by register_onednn.ts, which the kernels never import.
import * as tf from "@tensorflow/tfjs-core";
// Importing tfjs-backend-cpu registers its kernels (not a choice of backend); register_onednn.ts copies their configs.
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { onednnHasBf16, onednnIsaName, type ConvPrecision, type NativeBinding } from "./native_binding";
import { MnistLabError } from "../shared/errors";
import { machineInfo } from "../shared/machine";
import { BufferPool } from "./buffer_pool";

export const ONEDNN_BACKEND_NAME = "onednn";

type PoolDtype = "float32" | "int32" | "bool";
type PoolArray = Float32Array | Int32Array | Uint8Array;

// Arrays below this many elements are cheap to allocate; above it a fresh array costs page faults (first touch).
const POOL_MIN_ELEMENTS = 4096;
// A training step of the report's CNN at batch 86 cycles through ~420 MiB of outputs; MNIST_ONEDNN_POOL_MIB overrides.
const POOL_MAX_BYTES = Number(process.env.MNIST_ONEDNN_POOL_MIB ?? 512) * 1024 * 1024;

const MALLOC_MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024;

function typedView(dtype: PoolDtype, buffer: ArrayBuffer, size: number, byteOffset = 0): PoolArray {
  return dtype === "float32"
    ? new Float32Array(buffer, byteOffset, size)
    : dtype === "int32"
      ? new Int32Array(buffer, byteOffset, size)
      : new Uint8Array(buffer, byteOffset, size);
}

// Pooled arrays start on a cache line: an ArrayBuffer's own start is only 16-byte aligned, and vector loads and stores
// that straddle two lines slow the streaming kernels (bench/array_alignment.ts).
const CACHE_LINE = 64;

/** A MathBackendCPU whose hot kernels call the oneDNN addon, with a pool that recycles output arrays. */
export class OnednnBackend extends MathBackendCPU {
  readonly native: NativeBinding;
  /** What the convolutions compute in (setConvPrecision): float32 unless a run asks for mixed_bfloat16. */
  convPrecision: ConvPrecision = "float32";
  private readonly pool = new BufferPool(POOL_MAX_BYTES);
  // Arrays this backend allocated and nobody outside a native kernel has seen; only these are recycled.
  private readonly owned = new WeakSet<object>();

  constructor(native: NativeBinding) {
    super();
    this.native = native;
    // tfjs-cpu prints a "use tfjs-node" banner on first write; this backend is the fast path it means.
    (this as unknown as { firstUse: boolean }).firstUse = false;
    // Arrays of 4 MiB and more are mmapped and go back to the system when freed (see addon.cc); the pool keeps
    // the hot ones, and the rest no longer stay resident after their phase. glibc's own variable overrides it.
    if (process.env.MALLOC_MMAP_THRESHOLD_ === undefined) native.setMallocMmapThreshold(MALLOC_MMAP_THRESHOLD_BYTES);
  }

  /**
   * An output array whose contents are garbage (kernels overwrite all). A large one is a view starting on a cache line
   * of a recycled buffer when one fits, else of a new one, and the buffer is larger than the view (see escape).
   */
  allocate(dtype: PoolDtype, size: number): PoolArray {
    const bytes = size * (dtype === "bool" ? 1 : 4);
    if (size < POOL_MIN_ELEMENTS) return typedView(dtype, new ArrayBuffer(bytes), size);
    const buffer = this.pool.take(bytes + CACHE_LINE) ?? new ArrayBuffer(bytes + CACHE_LINE);
    const array = typedView(dtype, buffer, size, this.native.alignmentOffset(buffer, CACHE_LINE));
    this.owned.add(array);
    return array;
  }

  /**
   * Marks a tensor's array as seen outside native kernels (read, or passed to a JS kernel that may keep a view),
   * so it is never recycled. A view of a larger buffer (every pooled array) is first swapped for an exact-size copy, because
   * code outside (tfjs's io, users) may read `values.buffer` whole; the buffer goes back to the pool.
   */
  escape(dataId: tf.DataId): void {
    // data.get of an id this backend does not hold asks the engine to move it here, which reads it: endless.
    if (!this.data.has(dataId)) return;
    const data = this.data.get(dataId);
    const values = data?.values as PoolArray | undefined;
    if (!values || !this.owned.has(values)) return;
    this.owned.delete(values);
    if (values.byteLength !== values.buffer.byteLength) {
      data!.values = values.slice();
      this.pool.give(values.buffer as ArrayBuffer);
    }
  }

  override readSync(dataId: tf.DataId): tf.BackendValues {
    this.escape(dataId);
    return super.readSync(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const data = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    if (data && (force || data.refCount <= 1) && data.values && this.owned.has(data.values as object)) {
      const values = data.values as PoolArray;
      this.owned.delete(values);
      this.pool.give(values.buffer as ArrayBuffer);
    }
    return super.disposeData(dataId, force);
  }

  /** Bytes held by the output pool. */
  pooledByteCount(): number {
    return this.pool.byteCount;
  }

  /** Drops every pooled buffer (the garbage collector frees them), e.g. between training and a large inference batch. */
  releasePool(): void {
    this.pool.clear();
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }
}

/**
 * Runs a fused optimizer update (KERAS_RMSPROP_UPDATE, KERAS_ADAM_UPDATE) of every variable of a step in one kernel
 * call when the active backend has it and holds every input as a float32 array; null otherwise, and the caller runs
 * its tfjs op chain, which gives the same bits.
 * @param perVariable each variable's inputs by name ({p, g, a} for RMSprop)
 * @returns each variable's outputs, in the kernel's order
 */
export function runFusedUpdate(
  kernelName: string,
  perVariable: Record<string, tf.Tensor>[],
  attrs: Record<string, number>,
): tf.Tensor[][] | null {
  const backend = tf.backend();
  if (perVariable.length === 0 || !(backend instanceof OnednnBackend) || tf.getKernel(kernelName, tf.getBackend()) == null) return null;
  const inputs: Record<string, tf.Tensor> = {};
  perVariable.forEach((tensors, k) => {
    for (const [name, t] of Object.entries(tensors)) inputs[`${name}${k}`] = t;
  });
  for (const t of Object.values(inputs)) {
    if (t.dtype !== "float32" || !backend.data.has(t.dataId) || !(backend.data.get(t.dataId)?.values instanceof Float32Array)) return null;
  }
  const outputs = tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor[];
  const each = outputs.length / perVariable.length;
  return perVariable.map((_, k) => outputs.slice(k * each, (k + 1) * each));
}

/** Releases the onednn backend's pooled output arrays when it is the active backend; a no-op otherwise. */
export function releasePooledMemory(): void {
  const backend = tf.backend();
  if (backend instanceof OnednnBackend) backend.releasePool();
}

/**
 * Sets what the active onednn backend's convolutions compute in from now on: "float32", or "bfloat16" (bf16 inputs
 * and weights, f32 accumulation and outputs; the rest of the step stays f32). Throws one line when bfloat16 is asked
 * of another backend or of a CPU whose oneDNN kernels lack AVX512_BF16 and AMX (ONEDNN_MAX_CPU_ISA may lower them).
 * @returns the precision it replaced, for the caller to restore
 */
export function setConvPrecision(precision: ConvPrecision): ConvPrecision {
  const backend = tf.backend();
  if (!(backend instanceof OnednnBackend)) {
    if (precision === "float32") return "float32";
    throw new MnistLabError(`Expected the onednn backend for bfloat16 convolutions but the active backend is ${tf.getBackend()}`);
  }
  const isa = backend.native.info().isa;
  if (precision === "bfloat16" && !onednnHasBf16(isa)) {
    const capped = process.env.ONEDNN_MAX_CPU_ISA ? `, ONEDNN_MAX_CPU_ISA=${process.env.ONEDNN_MAX_CPU_ISA}` : "";
    throw new MnistLabError(
      `Expected a CPU with AVX512_BF16 or AMX for mixed_bfloat16 but found ${machineInfo().cpu} ` +
        `(oneDNN dispatches to ${onednnIsaName(isa)} without bf16${capped}); train in float32 (leave --precision out)`,
    );
  }
  const previous = backend.convPrecision;
  backend.convPrecision = precision;
  return previous;
}
