// The one typed loader of the oneDNN addon (native/build/Release/mnist_onednn.node); nothing else requires it.
import * as fs from "node:fs";
import * as path from "node:path";

import {
  Abs,
  Add,
  All,
  Any,
  ArgMax,
  ArgMin,
  Ceil,
  ClipByValue,
  Elu,
  Equal,
  Exp,
  Floor,
  Greater,
  GreaterEqual,
  LeakyRelu,
  Less,
  LessEqual,
  Log,
  LogicalAnd,
  LogicalNot,
  LogicalOr,
  Max,
  Maximum,
  Mean,
  Min,
  Minimum,
  Multiply,
  Neg,
  NotEqual,
  Pow,
  Prelu,
  Prod,
  RealDiv,
  Reciprocal,
  Relu,
  Relu6,
  Rsqrt,
  Sigmoid,
  Sqrt,
  Square,
  SquaredDifference,
  Step,
  Sub,
  Sum,
  Tanh,
} from "@tensorflow/tfjs-core";
import type { backend_util } from "@tensorflow/tfjs-core";

type F32 = Float32Array;
type Numeric = Float32Array | Int32Array | Uint8Array;

/**
 * The names of the addon's enums (native/src/enums.h defines their codes) that this side uses: binary, unary and
 * reduce ops by their tfjs kernel names, activations by tfjs's fused activation names. The loader checks that the
 * addon gives each one a code of its own; kernels take the codes from `binding.enums`.
 */
export const NATIVE_ENUM_NAMES = {
  activation: ["linear", "relu", "relu6", "elu", "leakyrelu", "sigmoid"],
  binaryOp: [
    Add,
    Sub,
    Multiply,
    RealDiv,
    Maximum,
    Minimum,
    Pow,
    SquaredDifference,
    Equal,
    NotEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    LogicalAnd,
    LogicalOr,
    Prelu,
  ],
  unaryOp: [
    Relu,
    Step,
    Square,
    Sqrt,
    Rsqrt,
    Neg,
    Log,
    Exp,
    Floor,
    Abs,
    ClipByValue,
    Sigmoid,
    Relu6,
    Reciprocal,
    LeakyRelu,
    Elu,
    Ceil,
    Tanh,
    LogicalNot,
  ],
  reduceOp: [Sum, Mean, Max, Min, Prod, ArgMax, ArgMin, Any, All],
  convPrecision: ["float32", "bfloat16"],
} as const;

type EnumNames = typeof NATIVE_ENUM_NAMES;
export type ActivationName = EnumNames["activation"][number];
export type BinaryOpName = EnumNames["binaryOp"][number];
export type UnaryOpName = EnumNames["unaryOp"][number];
export type ReduceOpName = EnumNames["reduceOp"][number];
/** What a convolution computes in: float32, or bfloat16 inputs and weights with float32 accumulation and outputs. */
export type ConvPrecision = EnumNames["convPrecision"][number];
/** The addon's `enums`: per enum, name -> integer code. */
export type NativeEnums = { readonly [E in keyof EnumNames]: Readonly<Record<EnumNames[E][number], number>> };

/** The fields of tfjs's Conv2DInfo the addon reads by name (native/src/conv2d.cc). */
export type ConvGeometry = Pick<
  backend_util.Conv2DInfo,
  | "batchSize"
  | "inHeight"
  | "inWidth"
  | "inChannels"
  | "outHeight"
  | "outWidth"
  | "outChannels"
  | "filterHeight"
  | "filterWidth"
  | "strideHeight"
  | "strideWidth"
  | "dilationHeight"
  | "dilationWidth"
> & { padInfo: Pick<backend_util.PadInfo, "top" | "left" | "bottom" | "right"> };

/** The fields of tfjs's Pool2DInfo (a Conv2DInfo) the addon reads by name (native/src/pool.cc). */
export type PoolGeometry = Omit<ConvGeometry, "outChannels" | "dilationHeight" | "dilationWidth" | "padInfo"> & {
  padInfo: Pick<backend_util.PadInfo, "top" | "left">;
};

/** A (batched) matrix product's shape, read by name by the addon's matMul (native/src/matmul.cc). */
export interface MatMulGeometry {
  /** Matrices in a (at least 1); a batch of 1 broadcasts against b's. */
  batchA: number;
  /** Matrices in b (at least 1); equal to batchA unless one of them is 1. */
  batchB: number;
  /** Rows of each output matrix (a's rows, or its columns when transposeA). */
  m: number;
  /** Columns of each output matrix (b's columns, or its rows when transposeB). */
  n: number;
  /** The inner dimension the product sums over. */
  k: number;
  /** Whether each matrix of a is stored as [k, m]. */
  transposeA: boolean;
  /** Whether each matrix of b is stored as [n, k]. */
  transposeB: boolean;
}

/** The attrs of the OnednnKerasRMSpropUpdate kernel, which the addon's kerasRmspropUpdate reads by name (float32 values). */
export interface KerasRmspropUpdateAttrs {
  learningRate: number;
  rho: number;
  oneMinusRho: number;
  epsilon: number;
}

/** The attrs of the OnednnKerasAdamUpdate kernel, which the addon's kerasAdamUpdate reads by name (float32 values). */
export interface KerasAdamUpdateAttrs {
  /** Keras's bias-corrected lr_t of the step. */
  learningRate: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
}

/**
 * The functions the addon exports, in addon.cc's order (native/src/kernels.h lists the kernels among them). The loader
 * checks that the addon exports exactly these; NativeBinding is derived from this list.
 */
export const NATIVE_FUNCTION_NAMES = [
  "info",
  "setThreads",
  "setMallocMmapThreshold",
  "alignmentOffset",
  "conv2dForward",
  "conv2dBackwardData",
  "conv2dBackwardFilter",
  "matMul",
  "maxPool",
  "maxPoolGrad",
  "binary",
  "unary",
  "select",
  "reluGrad",
  "reduce",
  "softmax",
  "softmaxCrossEntropy",
  "softmaxCrossEntropyGrad",
  "batchNorm",
  "batchNormGrad",
  "cast",
  "transpose",
  "tile",
  "slice",
  "fill",
  "concat",
  "kerasRmspropUpdate",
  "kerasAdamUpdate",
  "batchNormReluTrain",
  "batchNormReluGrad",
  "dropout",
] as const;

export type NativeFunctionName = (typeof NATIVE_FUNCTION_NAMES)[number];

/** The signature of each function of NATIVE_FUNCTION_NAMES. Sizes are checked natively. */
interface NativeFunctionSignatures {
  info(): { onednnVersion: string; threads: number; isa: number };
  setThreads(threads: number): void;
  /** glibc's M_MMAP_THRESHOLD, fixed (false where the C library is not glibc). */
  setMallocMmapThreshold(bytes: number): boolean;
  /** The bytes to skip from the buffer's start to an address that is a multiple of `alignment` (a power of two ≤ 4096). */
  alignmentOffset(buffer: ArrayBuffer, alignment: number): number;
  /** x NHWC, filter HWIO, out NHWC; then bias and the activation (an `enums.activation` code; alpha for leakyrelu). */
  /** precision: an `enums.convPrecision` code (bfloat16 throws on a CPU without AVX512_BF16 or AMX). */
  conv2dForward(
    x: F32,
    filter: F32,
    bias: F32 | null,
    out: F32,
    conv: ConvGeometry,
    activation: number,
    alpha: number,
    precision: number,
  ): void;
  conv2dBackwardData(dy: F32, filter: F32, dx: F32, conv: ConvGeometry, precision: number): void;
  conv2dBackwardFilter(x: F32, dy: F32, dw: F32, conv: ConvGeometry, precision: number): void;
  /** out = a·b per batch (shapes in `matMul`); then bias (one value per column) and the activation, as conv2dForward's. */
  matMul(a: F32, b: F32, out: F32, matMul: MatMulGeometry, bias: F32 | null, activation: number, alpha: number): void;
  /** NHWC. */
  maxPool(x: F32, out: F32, pool: PoolGeometry): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, pool: PoolGeometry): void;
  /** op: an `enums.binaryOp` code. */
  binary(op: number, a: Numeric, aShape: number[], b: Numeric, bShape: number[], out: Numeric, outShape: number[]): void;
  /** op: an `enums.unaryOp` code; alpha and beta: Step's and LeakyRelu's alpha, ClipByValue's bounds. */
  unary(op: number, x: Numeric, out: Numeric, alpha: number, beta: number): void;
  select(condition: Uint8Array, a: Numeric, b: Numeric, out: Numeric): void;
  /** out = dy * step(x), one pass. */
  reluGrad(dy: F32, x: F32, out: F32): void;
  /** op: an `enums.reduceOp` code, over the middle axis of x as [outer, reduce, inner]. */
  reduce(op: number, x: Numeric, out: Numeric, outer: number, reduce: number, inner: number): void;
  softmax(logits: F32, out: F32, rows: number, cols: number): void;
  /** Per-row cross-entropy of softmax(logits) against labels (from the logits, unclipped), and that softmax. */
  softmaxCrossEntropy(logits: F32, labels: F32, loss: F32, softmax: F32, rows: number, cols: number): void;
  /** dLogits = dy (one per row) × (softmax − labels). */
  softmaxCrossEntropyGrad(dy: F32, softmax: F32, labels: F32, dLogits: F32, rows: number, cols: number): void;
  batchNorm(x: F32, mean: F32, variance: F32, offset: F32 | null, scale: F32 | null, out: F32, epsilon: number): void;
  batchNormGrad(
    dy: F32,
    x: F32,
    mean: F32,
    variance: F32,
    scale: F32 | null,
    dx: F32,
    dMean: F32,
    dVariance: F32,
    dScale: F32,
    dOffset: F32,
    epsilon: number,
  ): void;
  cast(x: Numeric, out: Numeric): void;
  transpose(x: Numeric, shape: number[], perm: number[], out: Numeric): void;
  tile(x: Numeric, shape: number[], reps: number[], out: Numeric): void;
  slice(x: Numeric, shape: number[], begin: number[], size: number[], out: Numeric): void;
  fill(out: Numeric, value: number): void;
  /** Input i is [outer, inners[i]]; out is [outer, sum(inners)]. */
  concat(inputs: Numeric[], inners: number[], outer: number, out: Numeric): void;
  /**
   * KerasRMSprop's step for every variable at once (the k-th array of each list is variable k's), in float32 op by op:
   * aOut = a·ρ + g²·(1 − ρ), pOut = p − g·lr / (√aOut + ε).
   */
  kerasRmspropUpdate(p: F32[], g: F32[], a: F32[], pOut: F32[], aOut: F32[], rmsprop: KerasRmspropUpdateAttrs): void;
  /**
   * KerasAdam's step for every variable at once, as kerasRmspropUpdate: mOut = m·β₁ + g·(1 − β₁),
   * vOut = v·β₂ + g²·(1 − β₂), pOut = p − mOut·lrT / (√vOut + ε).
   */
  kerasAdamUpdate(p: F32[], g: F32[], m: F32[], v: F32[], pOut: F32[], mOut: F32[], vOut: F32[], adam: KerasAdamUpdateAttrs): void;
  /**
   * Training BatchNorm of relu(z), z = [rows, C]: y, the batch's mean and biased variance, the moving statistics; two
   * passes. With pool winners (z = [n, height, width, C]), y is its 2×2 stride-2 max-pool and the winners are filled.
   */
  batchNormReluTrain(
    z: F32,
    gamma: F32,
    beta: F32,
    movingMean: F32,
    movingVariance: F32,
    y: F32,
    mean: F32,
    variance: F32,
    newMovingMean: F32,
    newMovingVariance: F32,
    epsilon: number,
    momentum: number,
    poolWinners: Int32Array | null,
    height: number,
    width: number,
  ): void;
  /** batchNormReluTrain's backward pass and the conv bias's gradient (dBias = Σ dz); with pool winners, dy is pooled. */
  batchNormReluGrad(
    dy: F32,
    z: F32,
    mean: F32,
    variance: F32,
    gamma: F32,
    dz: F32,
    dGamma: F32,
    dBeta: F32,
    dBias: F32,
    epsilon: number,
    poolWinners: Int32Array | null,
    height: number,
    width: number,
  ): void;
  /** y = x·multiplier, multiplier = 1/(1 − rate) or 0 by a counter-based hash of (seed, index); one pass. */
  dropout(x: F32, y: F32, multiplier: F32, rate: number, seed: number): void;
}

// A signature whose name NATIVE_FUNCTION_NAMES lacks fails to compile here (Pick below fails on the converse).
const _everySignatureListed: Exclude<keyof NativeFunctionSignatures, NativeFunctionName> extends never ? true : never = true;
void _everySignatureListed;

/** The addon's exports: the functions of NATIVE_FUNCTION_NAMES and the enums their op codes come from. */
export type NativeBinding = Pick<NativeFunctionSignatures, NativeFunctionName> & {
  /** The op codes of binary, unary, reduce and the activations take their values from here. */
  readonly enums: NativeEnums;
};

/** Whether oneDNN's `dnnl_cpu_isa_t` code (info().isa) has native bfloat16 kernels (avx512_core_bf16, AMX). */
export function onednnHasBf16(code: number): boolean {
  const AVX512_CORE_BF16 = 0xe7; // dnnl_types.h; AMX's codes contain its bits
  return (code & AVX512_CORE_BF16) === AVX512_CORE_BF16;
}

/**
 * The vector ISA behind oneDNN's `dnnl_cpu_isa_t` code (info().isa): what its kernels dispatch to on this CPU,
 * lowered by ONEDNN_MAX_CPU_ISA when that is set.
 */
export function onednnIsaName(code: number): "avx512" | "avx2" | "avx" | "sse4.1" | "unknown" {
  // dnnl_types.h: sse41 0x1, avx 0x3, avx2 0x7, avx2_vnni 0x407; avx512_mic 0xf and 0x1f, avx512_core 0x27 and up.
  if (code & 0x400) return "avx2";
  if (code & 0x28) return "avx512";
  if ((code & 0x7) === 0x7) return "avx2";
  if ((code & 0x3) === 0x3) return "avx";
  if (code & 0x1) return "sse4.1";
  return "unknown";
}

/** Where the addon was looked for and, when it did not load, why. */
export interface NativeBindingResult {
  binding: NativeBinding | null;
  path: string;
  error: string | null;
}

let cached: NativeBindingResult | undefined;

/**
 * Null when the addon's `enums` give every name of NATIVE_ENUM_NAMES an integer code of its own within its enum;
 * else one line naming the enum, the name, what was expected and what was found.
 */
export function checkNativeEnums(enums: unknown): string | null {
  for (const [enumName, names] of Object.entries(NATIVE_ENUM_NAMES)) {
    const codes = (enums as Record<string, Record<string, unknown> | undefined> | undefined)?.[enumName];
    const seen = new Map<unknown, string>();
    for (const name of names) {
      const code = codes?.[name];
      if (!Number.isInteger(code) || (code as number) < 0) {
        const found = codes === undefined ? `no enum ${enumName}` : String(code);
        return `Expected the addon's enum ${enumName} to give ${name} a non-negative integer code but found ${found}`;
      }
      if (seen.has(code))
        return `Expected the addon's enum ${enumName} to give ${name} a code of its own but found ${code}, ${seen.get(code)}'s`;
      seen.set(code, name);
    }
  }
  return null;
}

/**
 * Null when `binding` exports exactly the functions of NATIVE_FUNCTION_NAMES (besides `enums`); else one line naming
 * the missing and the extra ones (or that none is there).
 */
export function checkNativeFunctions(binding: unknown): string | null {
  const exported = (typeof binding === "object" && binding !== null ? binding : {}) as Record<string, unknown>;
  const expected = new Set<string>(NATIVE_FUNCTION_NAMES);
  const missing = NATIVE_FUNCTION_NAMES.filter((name) => typeof exported[name] !== "function");
  const extra = Object.keys(exported).filter((name) => name !== "enums" && !expected.has(name));
  if (missing.length === 0 && extra.length === 0) return null;
  // A file that is not this addon at all (a wrong MNIST_ONEDNN_ADDON): its own exports would only be noise.
  if (missing.length === expected.size)
    return `Expected the addon to export the ${expected.size} functions of NATIVE_FUNCTION_NAMES but found none of them`;
  const found = [missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `extra ${extra.join(", ")}` : ""];
  const foundText = found.filter(Boolean).join("; ");
  return `Expected the addon to export the ${expected.size} functions of NATIVE_FUNCTION_NAMES but found ${foundText}`;
}

/** The package root: the nearest directory above this file with native/binding.gyp (works from lib/ and dist/lib/). */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, "native", "binding.gyp"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, "..", "..");
    dir = parent;
  }
}

/** Loads the addon once; never throws (the error is returned so callers can explain a fallback). */
export function loadNativeBinding(): NativeBindingResult {
  if (cached) return cached;
  const file = process.env.MNIST_ONEDNN_ADDON ?? path.join(packageRoot(), "native", "build", "Release", "mnist_onednn.node");
  if (!fs.existsSync(file)) {
    cached = { binding: null, path: file, error: `the addon is not built: ${file} does not exist` };
    return cached;
  }
  // OpenMP threads that spin between kernels starve tfjs's JS thread and other processes on a busy machine (see
  // native/README.md); sleeping waits cost a little latency. libgomp reads this when loaded.
  process.env.OMP_WAIT_POLICY ??= "PASSIVE";
  try {
    const binding = require(file) as NativeBinding;
    // An addon built from other sources than this lib fails here, not at its first kernel call.
    let mismatch = checkNativeFunctions(binding);
    if (mismatch === null) {
      binding.info();
      mismatch = checkNativeEnums(binding.enums);
    }
    cached = mismatch
      ? { binding: null, path: file, error: `the addon does not match lib/backend (rebuild it: npm run build:native): ${mismatch}` }
      : { binding, path: file, error: null };
  } catch (err) {
    cached = { binding: null, path: file, error: `the addon failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
  return cached;
}
