// The one typed loader of the oneDNN addon (native/build/Release/mnist_onednn.node); nothing else requires it.
import * as fs from "node:fs";
import * as path from "node:path";

type F32 = Float32Array;
type Numeric = Float32Array | Int32Array | Uint8Array;

/** The functions the addon exports (native/src/addon.cc holds the list). Sizes are checked natively. */
export interface NativeBinding {
  info(): { onednnVersion: string; threads: number; isa: number };
  setThreads(threads: number): void;
  /** glibc's M_MMAP_THRESHOLD, fixed (false where the C library is not glibc). */
  setMallocMmapThreshold(bytes: number): boolean;
  /** params: [N, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight] */
  conv2dForward(x: F32, filter: F32, bias: F32 | null, out: F32, params: number[], activation: number, alpha: number): void;
  conv2dBackwardData(dy: F32, filter: F32, dx: F32, params: number[]): void;
  conv2dBackwardFilter(x: F32, dy: F32, dw: F32, params: number[]): void;
  matMul(
    a: F32,
    b: F32,
    out: F32,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    bias: F32 | null,
    activation: number,
    alpha: number,
  ): void;
  /** params: [N, inH, inW, C, outH, outW, fH, fW, strideH, strideW, padTop, padLeft] */
  maxPool(x: F32, out: F32, params: number[]): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, params: number[]): void;
  binary(op: number, a: Numeric, aShape: number[], b: Numeric, bShape: number[], out: Numeric, outShape: number[]): void;
  unary(op: number, x: Numeric, out: Numeric, alpha: number, beta: number): void;
  select(condition: Uint8Array, a: Numeric, b: Numeric, out: Numeric): void;
  /** out = dy * step(x), one pass. */
  reluGrad(dy: F32, x: F32, out: F32): void;
  reduce(op: number, x: Numeric, out: Numeric, outer: number, reduce: number, inner: number): void;
  softmax(logits: F32, out: F32, rows: number, cols: number): void;
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
  /** pixels × factor as float32, computed off the JS thread into freshly mapped memory. */
  scaleU8(pixels: Uint8Array, factor: number): Promise<Float32Array>;
  /** A whole file, read off the JS thread into freshly mapped memory. */
  readFile(path: string): Promise<Uint8Array>;
  /** A copy-on-write mapping of a whole file this project never truncates in place (replaced by rename). */
  mapFile(path: string): Uint8Array;
  /** XXH3-64 of the parts' bytes, one after another, as 16 hex digits, computed off the JS thread. */
  xxh3(parts: Array<Float32Array | Int32Array | Uint8Array>): Promise<string>;
  /** KerasRMSprop's step in one pass: aOut = a·ρ + g²·(1 − ρ), pOut = p − g·lr / (√aOut + ε), in float32 op by op. */
  kerasRmspropUpdate(p: F32, g: F32, a: F32, pOut: F32, aOut: F32, lr: number, rho: number, oneMinusRho: number, epsilon: number): void;
  /** KerasAdam's step in one pass: mOut = m·β₁ + g·(1 − β₁), vOut = v·β₂ + g²·(1 − β₂), pOut = p − mOut·lrT / (√vOut + ε). */
  kerasAdamUpdate(
    p: F32,
    g: F32,
    m: F32,
    v: F32,
    pOut: F32,
    mOut: F32,
    vOut: F32,
    lrT: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    epsilon: number,
  ): void;
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
  // OpenMP threads that spin between kernels starve tfjs's JS thread and other processes on a busy 2-core
  // machine (steps measured 3-5x slower); sleeping waits cost a little latency. libgomp reads this when loaded.
  process.env.OMP_WAIT_POLICY ??= "PASSIVE";
  try {
    const binding = require(file) as NativeBinding;
    binding.info();
    cached = { binding, path: file, error: null };
  } catch (err) {
    cached = { binding: null, path: file, error: `the addon failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
  return cached;
}
