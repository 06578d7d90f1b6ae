// Throughput benchmark of the report's CNN on the active tfjs backend, optionally beside PyTorch's reference script
// (bench/pytorch_cnn.py in this repository). Both sides take the same warm-up, timed steps, batch, threads and
// inference timing; rounds alternate which side goes first, and each figure is its best round's.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { initBackend, releasePooledMemory, type BackendDiagnostics } from "../backend";
import { MNIST_COLS, MNIST_IMAGE_BYTES, MNIST_NUM_CLASSES, MNIST_ROWS, MNIST_TRAIN_IMAGES, loadMnist } from "../data/data";
import { gatherBatch } from "../data/preprocess";
import { machineInfo, type MachineInfo } from "../shared/machine";
import { Rng } from "../shared/random";
import {
  REPORT_PADDING_READING,
  buildReportCnn,
  compileReportCnn,
  paddingReadingName,
  paddingsOfReading,
  predictLean,
  type ReportCnnOptions,
} from "../model/model";
import { REPORT_OPTIMIZERS, makeOptimizer, type OptimizerName, type ReportOptimizer } from "../training/optimizers";
import { trainBatch, trainingStepKind } from "../training/fused_step";
import { projectRoot } from "../shared/paths";

export interface BenchOptions {
  /** Timed training steps per optimizer after `warmupSteps` (default 20). */
  steps?: number;
  /** Untimed training steps first (default 3). */
  warmupSteps?: number;
  /** Images per training step (the report: 86). */
  batchSize?: number;
  /** Padding reading of conv 3–5 on both sides, e.g. `sss` (default: the recipe's, REPORT_PADDING_READING). */
  padding?: string;
  /** Images per inference batch (default 1000). */
  inferBatchSize?: number;
  /** Inference is the best of this many batches after one untimed batch (default 2). */
  inferRepeats?: number;
  /** tfjs backend (default: MNIST_BACKEND, else the chain). */
  backend?: string;
  /** Also run the PyTorch reference for both optimizers and report ratios. */
  comparePytorch?: boolean;
  /** Path of pytorch_cnn.py (default bench/pytorch_cnn.py in this repository). */
  pytorchScript?: string;
  /** Interpreter with torch (default /usr/bin/python3). */
  python?: string;
  /**
   * Rounds of ours and PyTorch's, back to back per optimizer; odd rounds run ours first, even rounds PyTorch's.
   * Each figure is its best round's, which tames a busy machine (default 1).
   */
  rounds?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** One engine's figures, with what they ran on. */
export interface EngineFigures {
  /** "mnist-lab onednn" or "pytorch 1.13.0", say. */
  engine: string;
  /** The vector ISA its convolutions dispatched to (oneDNN's, lowered by ONEDNN_MAX_CPU_ISA when set). */
  isa: string;
  threads: number;
  trainImagesPerSec: Record<ReportOptimizer, number>;
  inferImagesPerSec: number;
  peakRssMiB: number;
}

export interface PytorchFigures extends EngineFigures {
  /** The ISA of ATen's own vectorised kernels (elementwise ops, optimizers), which may differ from oneDNN's. */
  atenIsa: string;
}

export interface BenchResult {
  /** The CPU every figure below came from (model, family/model, widest ISA it offers, logical cores). */
  machine: MachineInfo;
  backend: string;
  /** The ISA our convolutions dispatched to (oneDNN's on the onednn backend). */
  isa: string;
  /** Threads our kernels ran on. */
  threads: number;
  /** "mnist" when the MNIST training images were found, else "random". */
  data: "mnist" | "random";
  batchSize: number;
  /** Padding reading of conv 3–5 both sides trained (e.g. `vvs`, the recipe's). */
  padding: string;
  /** Parameters of that model, BatchNorm's moving statistics included (PyTorch's must equal it). */
  parameters: number;
  warmupSteps: number;
  steps: number;
  inferBatchSize: number;
  inferRepeats: number;
  rounds: number;
  trainImagesPerSec: Record<ReportOptimizer, number>;
  inferImagesPerSec: number;
  /** Seconds per 60,000-image epoch at the measured training speed. */
  epochSeconds: Record<ReportOptimizer, number>;
  /** Peak resident memory of this process (MiB). */
  peakRssMiB: number;
  /** Resident memory after warm-up and at the end of each optimizer's last run (MiB), to show it stays flat. */
  rssMiB: Record<ReportOptimizer, { afterWarmup: number; end: number }>;
  numTensors: Record<ReportOptimizer, { afterWarmup: number; end: number }>;
  /** Settings both sides ran under that change speed: OpenMP's wait policy, a cap on oneDNN's ISA. */
  environment: { OMP_WAIT_POLICY: string | null; ONEDNN_MAX_CPU_ISA: string | null };
  pytorch?: PytorchFigures;
  /** Ours divided by PyTorch's (> 1: faster; for RSS > 1: more memory). */
  ratios?: { trainRmsprop: number; trainAdam: number; infer: number; peakRss: number };
  /** Where one of our training steps goes (tf.profile), per optimizer, and which step trained ("fused" or why not). */
  stepSplit: Record<ReportOptimizer, StepSplit>;
  trainingStep: string;
}

/** One training step's wall time split into the convolutions' kernels, the other kernels and time outside any kernel. */
export interface StepSplit {
  /** A step's wall time, unprofiled. */
  wallMs: number;
  /** The same steps under tf.profile, whose own bookkeeping (a record per kernel) is not part of a step. */
  profiledWallMs: number;
  convMs: number;
  otherKernelsMs: number;
  outsideKernelsMs: number;
  /** convMs / wallMs. */
  convShare: number;
}

/** The convolution kernels of a training step (forward, backward-data, backward-filter). */
const CONV_KERNELS = new Set(["Conv2D", "FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"]);

/**
 * Times `steps` training steps of `model` on one batch, then profiles as many with tf.profile (which times each
 * kernel), and splits the unprofiled step's wall time into the convolutions, the other kernels and the rest;
 * `kernels` gets each kernel's mean milliseconds and calls per step. tf.profile's own cost (it records every kernel's
 * shapes and byte counts) shows as `profiledWallMs` − `wallMs`, outside the split.
 */
export async function profileTrainingStep(
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  steps: number,
): Promise<StepSplit & { kernels: KernelRow[] }> {
  let started = performance.now();
  for (let i = 0; i < steps; i++) await trainBatch(model, x, y);
  const wallMs = (performance.now() - started) / steps;
  started = performance.now();
  const info = await tf.profile(async () => {
    for (let i = 0; i < steps; i++) await trainBatch(model, x, y);
  });
  const profiledWallMs = (performance.now() - started) / steps;
  const kernels = kernelTable(info.kernels, steps);
  const convMs = kernels.filter((k) => CONV_KERNELS.has(k.kernel)).reduce((a, k) => a + k.ms, 0);
  const allMs = kernels.reduce((a, k) => a + k.ms, 0);
  const round2 = (v: number) => Math.round(v * 100) / 100;
  return {
    wallMs: round2(wallMs),
    profiledWallMs: round2(profiledWallMs),
    convMs: round2(convMs),
    otherKernelsMs: round2(allMs - convMs),
    outsideKernelsMs: round2(Math.max(0, wallMs - allMs)),
    convShare: round2(convMs / wallMs),
    kernels,
  };
}

/** tf.profile's kernels per kernel name: mean calls and milliseconds per repeat, slowest first. */
export function kernelTable(profiled: Array<{ name: string; kernelTimeMs: unknown }>, repeats: number): KernelRow[] {
  const by = new Map<string, KernelRow>();
  for (const k of profiled) {
    // tfjs also records an op-level wrapper (`fusedConv2d__op`) around the kernel it runs: counted once.
    if (k.name.endsWith("__op")) continue;
    const row = by.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    by.set(k.name, row);
  }
  const round2 = (v: number) => Math.round(v * 100) / 100;
  return [...by.values()]
    .map((r) => ({ kernel: r.kernel, calls: round2(r.calls / repeats), ms: round2(r.ms / repeats) }))
    .sort((a, b) => b.ms - a.ms);
}

export interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
/** Steps tf.profile times for the step split (its per-kernel timing slows a step a little). */
const PROFILED_STEPS = 5;
const mib = (bytes: number) => round1(bytes / 2 ** 20);

interface Batches {
  kind: "mnist" | "random";
  next(): { x: tf.Tensor4D; y: tf.Tensor2D };
}

async function makeBatches(batchSize: number): Promise<Batches> {
  let images: Uint8Array, labels: Uint8Array, count: number, kind: "mnist" | "random";
  try {
    const mnist = await loadMnist();
    ({ images, labels, count } = mnist.train);
    kind = "mnist";
  } catch {
    // Random pixels in [0, 255] and labels when MNIST is not available: the speed is the same.
    count = 4096;
    images = new Uint8Array(count * MNIST_IMAGE_BYTES);
    labels = new Uint8Array(count);
    const rng = new Rng(12345);
    for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
    for (let i = 0; i < count; i++) labels[i] = rng.int(MNIST_NUM_CLASSES);
    kind = "random";
  }
  let offset = 0;
  return {
    kind,
    next() {
      if (offset + batchSize > count) offset = 0;
      const x = new Float32Array(batchSize * MNIST_IMAGE_BYTES);
      const y = new Float32Array(batchSize * MNIST_NUM_CLASSES);
      gatherBatch({ images, labels, count }, null, offset, batchSize, x, y);
      offset += batchSize;
      return {
        x: tf.tensor4d(x, [batchSize, MNIST_ROWS, MNIST_COLS, 1]),
        y: tf.tensor2d(y, [batchSize, MNIST_NUM_CLASSES]),
      };
    },
  };
}

type Timing = Required<Pick<BenchOptions, "steps" | "warmupSteps" | "batchSize" | "inferBatchSize" | "inferRepeats">> & {
  paddings: NonNullable<ReportCnnOptions["paddings"]>;
};

async function trainSpeed(optimizer: OptimizerName, batches: Batches, o: Timing, log: (l: string) => void) {
  const model = buildReportCnn({ seed: 42, paddings: o.paddings });
  compileReportCnn(model, makeOptimizer(optimizer));
  const step = async () => {
    const { x, y } = batches.next();
    await trainBatch(model, x, y);
    tf.dispose([x, y]);
  };
  for (let i = 0; i < o.warmupSteps; i++) await step();
  const rssAfterWarmup = process.memoryUsage().rss;
  const tensorsAfterWarmup = tf.memory().numTensors;
  const started = performance.now();
  const every = Math.max(1, Math.floor(o.steps / 5));
  for (let i = 1; i <= o.steps; i++) {
    await step();
    if (i % every === 0 || i === o.steps)
      log(
        `  ${optimizer} step ${i}/${o.steps}: ${round1((o.batchSize * i) / ((performance.now() - started) / 1000))} img/s, ` +
          `rss ${mib(process.memoryUsage().rss)} MiB`,
      );
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    imagesPerSec: round1((o.batchSize * o.steps) / seconds),
    rss: { afterWarmup: mib(rssAfterWarmup), end: mib(process.memoryUsage().rss) },
    tensors: { afterWarmup: tensorsAfterWarmup, end: tf.memory().numTensors },
    model,
  };
}

/** Images per second of the best of `repeats` inference batches after one untimed batch, as pytorch_cnn.py times it. */
function inferSpeed(model: ReturnType<typeof buildReportCnn>, batchSize: number, repeats: number): number {
  const x = tf.randomUniform([batchSize, MNIST_ROWS, MNIST_COLS, 1]);
  const once = () => {
    const t0 = performance.now();
    const p = predictLean(model, x);
    p.dataSync();
    p.dispose();
    return performance.now() - t0;
  };
  once();
  let best = Infinity;
  for (let i = 0; i < Math.max(1, repeats); i++) best = Math.min(best, once());
  x.dispose();
  return round1(batchSize / (best / 1000));
}

/** Default location of PyTorch's reference script: bench/pytorch_cnn.py in this repository. */
export function defaultPytorchScript(): string {
  return path.join(projectRoot(), "bench", "pytorch_cnn.py");
}

/** What one run of pytorch_cnn.py is asked to do; the same numbers our side runs with. */
export interface PytorchRunOptions {
  optimizer: ReportOptimizer;
  /** Padding reading of conv 3–5, e.g. `vvs`. */
  padding: string;
  steps: number;
  warmupSteps: number;
  batchSize: number;
  inferBatchSize: number;
  inferRepeats: number;
  threads: number;
  script?: string;
  python?: string;
}

/** One optimizer's figures from pytorch_cnn.py. */
export interface PytorchRun {
  engine: string;
  cpu: string;
  isa: string;
  atenIsa: string;
  threads: number;
  /** Parameters of the model it trained, counted as Keras does (BatchNorm's moving statistics included). */
  parameters: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  peakRssMiB: number;
}

/** Runs pytorch_cnn.py once (one optimizer, then inference); throws naming the script and its last stderr lines on failure. */
export function runPytorchReference(options: PytorchRunOptions): PytorchRun {
  const script = options.script ?? defaultPytorchScript();
  const python = options.python ?? "/usr/bin/python3";
  if (!fs.existsSync(script))
    throw new Error(`Expected PyTorch's reference script at ${script} but it does not exist (see --pytorch-script)`);
  const args = [
    script,
    "--optimizer",
    options.optimizer,
    "--padding",
    options.padding,
    "--steps",
    String(options.steps),
    "--warmup",
    String(options.warmupSteps),
    "--batch",
    String(options.batchSize),
    "--infer-batch",
    String(options.inferBatchSize),
    "--infer-repeats",
    String(options.inferRepeats),
    "--threads",
    String(options.threads),
  ];
  // The child inherits this process's environment, OMP_WAIT_POLICY and ONEDNN_MAX_CPU_ISA included.
  const r = spawnSync(python, args, { encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
  if (r.error || r.status !== 0) {
    const why = r.error
      ? `failed to start: ${r.error.message}`
      : `exited with ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`;
    const torchMissing = !r.error && /No module named .?torch/.test(r.stderr);
    throw new Error(
      `Expected ${python} ${script} to succeed but it ${why}` +
        (torchMissing ? `\nPossible solutions:\n- apt-get install -y python3-torch\n- --python <an interpreter with torch>` : ""),
    );
  }
  const lines = r.stdout.trim().split("\n");
  const out = JSON.parse(lines[lines.length - 1]) as {
    engine: string;
    cpu: string;
    isa: string;
    aten_isa: string;
    threads: number;
    parameters: number;
    train_images_per_s: number;
    infer_images_per_s: number;
    peak_rss_mib: number;
  };
  return {
    engine: out.engine,
    cpu: out.cpu,
    isa: out.isa,
    atenIsa: out.aten_isa,
    threads: out.threads,
    parameters: out.parameters,
    trainImagesPerSec: out.train_images_per_s,
    inferImagesPerSec: out.infer_images_per_s,
    peakRssMiB: out.peak_rss_mib,
  };
}

function ourIsaAndThreads(backend: BackendDiagnostics, machine: MachineInfo): { isa: string; threads: number } {
  if (backend.onednn) return { isa: backend.onednn.isa, threads: backend.onednn.threads };
  // tfjs-node's libtensorflow dispatches per CPU as oneDNN does; the JS and wasm backends run one thread.
  if (backend.active === "tensorflow") return { isa: machine.isa, threads: machine.cores };
  return { isa: backend.active === "wasm" ? "wasm-simd128" : "js", threads: 1 };
}

/**
 * Trains the report's CNN on batches of 86 with RMSprop and with Adam, timing inference on a batch of 1000 after
 * each; with `comparePytorch`, runs bench/pytorch_cnn.py the same way beside each, alternating.
 * @example
 * const result = await runBench({ steps: 5 });
 * result.trainImagesPerSec.adam; // images per second
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult & { backendDiagnostics: BackendDiagnostics }> {
  const log = options.log ?? (() => undefined);
  const o: Timing = {
    steps: options.steps ?? 20,
    warmupSteps: options.warmupSteps ?? 3,
    batchSize: options.batchSize ?? 86,
    inferBatchSize: options.inferBatchSize ?? 1000,
    inferRepeats: Math.max(1, options.inferRepeats ?? 2),
    paddings: paddingsOfReading(options.padding ?? REPORT_PADDING_READING),
  };
  const padding = paddingReadingName(o.paddings);
  const rounds = Math.max(1, options.rounds ?? 1);
  const backendDiagnostics = await initBackend(options.backend);
  const machine = machineInfo();
  const { isa, threads } = ourIsaAndThreads(backendDiagnostics, machine);
  log(`${machine.cpu}; backend ${backendDiagnostics.active}, ${isa}, ${threads} threads; padding ${padding}`);
  const batches = await makeBatches(o.batchSize);
  log(`data: ${batches.kind === "mnist" ? "MNIST training images" : "random images (MNIST not found)"}`);
  const train: Record<ReportOptimizer, number> = { rmsprop: 0, adam: 0 };
  const rss = {} as BenchResult["rssMiB"];
  const tensors = {} as BenchResult["numTensors"];
  let infer = 0;
  let pt: PytorchFigures | undefined;

  const stepSplit = {} as BenchResult["stepSplit"];
  let trainingStep = "";
  let parameters = 0;
  const runOurs = async (optimizer: ReportOptimizer) => {
    const r = await trainSpeed(optimizer, batches, o, log);
    trainingStep = trainingStepKind(r.model);
    parameters = r.model.countParams();
    const { x, y } = batches.next();
    const { kernels: _kernels, ...split } = await profileTrainingStep(r.model, x, y, PROFILED_STEPS);
    tf.dispose([x, y]);
    stepSplit[optimizer] = split;
    train[optimizer] = Math.max(train[optimizer], r.imagesPerSec);
    rss[optimizer] = r.rss;
    tensors[optimizer] = r.tensors;
    // Training's pooled arrays fit no inference shape: let them go before the big batch, and its arrays after.
    releasePooledMemory();
    const ips = inferSpeed(r.model, o.inferBatchSize, o.inferRepeats);
    releasePooledMemory();
    infer = Math.max(infer, ips);
    log(`  ours ${optimizer}: train ${r.imagesPerSec} img/s, infer ${ips} img/s`);
    // model.dispose() leaves an optimizer passed in as an object (its slot variables) to its owner.
    r.model.optimizer.dispose();
    r.model.dispose();
  };
  const runTheirs = (optimizer: ReportOptimizer) => {
    const p = runPytorchReference({ ...o, optimizer, padding, threads, script: options.pytorchScript, python: options.python });
    if (parameters && p.parameters !== parameters)
      throw new Error(`Expected PyTorch's model to have our ${parameters} parameters (padding ${padding}) but found ${p.parameters}`);
    log(
      `  ${p.engine} ${optimizer}: train ${p.trainImagesPerSec} img/s, infer ${p.inferImagesPerSec} img/s (${p.isa}, ${p.threads} threads)`,
    );
    pt = bestPytorchFigures(pt, p, optimizer);
  };

  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) log(`round ${round}/${rounds}`);
    for (const optimizer of REPORT_OPTIMIZERS) {
      if (options.comparePytorch && round % 2 === 0) runTheirs(optimizer);
      await runOurs(optimizer);
      if (options.comparePytorch && round % 2 === 1) runTheirs(optimizer);
    }
  }
  const result: BenchResult & { backendDiagnostics: BackendDiagnostics } = {
    machine,
    backend: backendDiagnostics.active,
    isa,
    threads,
    data: batches.kind,
    batchSize: o.batchSize,
    padding,
    parameters,
    warmupSteps: o.warmupSteps,
    steps: o.steps,
    inferBatchSize: o.inferBatchSize,
    inferRepeats: o.inferRepeats,
    rounds,
    trainImagesPerSec: train,
    inferImagesPerSec: infer,
    epochSeconds: { rmsprop: round1(MNIST_TRAIN_IMAGES / train.rmsprop), adam: round1(MNIST_TRAIN_IMAGES / train.adam) },
    peakRssMiB: round1(process.resourceUsage().maxRSS / 1024),
    rssMiB: rss,
    numTensors: tensors,
    stepSplit,
    trainingStep,
    environment: { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? null, ONEDNN_MAX_CPU_ISA: process.env.ONEDNN_MAX_CPU_ISA ?? null },
    backendDiagnostics,
  };
  if (pt) {
    result.pytorch = pt;
    result.ratios = benchRatios(result, pt);
  }
  return result;
}

/** The best PyTorch figures so far, with one more of its runs (rounds alternate with ours; each keeps its best). */
function bestPytorchFigures(
  best: PytorchFigures | undefined,
  p: ReturnType<typeof runPytorchReference>,
  optimizer: ReportOptimizer,
): PytorchFigures {
  const next = best ?? {
    engine: p.engine,
    isa: p.isa,
    atenIsa: p.atenIsa,
    threads: p.threads,
    trainImagesPerSec: { rmsprop: 0, adam: 0 },
    inferImagesPerSec: 0,
    peakRssMiB: 0,
  };
  next.trainImagesPerSec[optimizer] = Math.max(next.trainImagesPerSec[optimizer], p.trainImagesPerSec);
  next.inferImagesPerSec = Math.max(next.inferImagesPerSec, p.inferImagesPerSec);
  next.peakRssMiB = Math.max(next.peakRssMiB, round1(p.peakRssMiB));
  return next;
}

/** Ours over PyTorch's, to two decimals. */
function benchRatios(result: BenchResult, pt: PytorchFigures): NonNullable<BenchResult["ratios"]> {
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    trainRmsprop: ratio(result.trainImagesPerSec.rmsprop, pt.trainImagesPerSec.rmsprop),
    trainAdam: ratio(result.trainImagesPerSec.adam, pt.trainImagesPerSec.adam),
    infer: ratio(result.inferImagesPerSec, pt.inferImagesPerSec),
    peakRss: ratio(result.peakRssMiB, pt.peakRssMiB),
  };
}

/**
 * The figures as a table for a terminal: the CPU and settings first, then one column per engine headed by its
 * ISA and threads, and the ratio.
 */
export function formatBenchTable(result: BenchResult): string {
  const p = result.pytorch,
    r = result.ratios;
  const lines = [
    `CPU: ${result.machine.cpu}, ${result.machine.isa}, ${result.machine.cores} logical cores`,
    `model: the report's CNN, padding ${result.padding} (${result.parameters.toLocaleString("en")} parameters)`,
    `training: batch ${result.batchSize}, ${result.warmupSteps} warm-up + ${result.steps} timed steps; ` +
      `inference: batch ${result.inferBatchSize}, best of ${result.inferRepeats}; ` +
      `best of ${result.rounds} round${result.rounds === 1 ? "" : "s"}${p ? " (ours and PyTorch alternating)" : ""}`,
  ];
  const env = Object.entries(result.environment)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`);
  if (env.length) lines.push(`environment (both sides): ${env.join(" ")}`);
  const cols = [`ours (${result.backend})`, ...(p ? [p.engine, "ours / PyTorch"] : [])];
  const sub = [`${result.isa}, ${result.threads} threads`, ...(p ? [`${p.isa} (ATen ${p.atenIsa}), ${p.threads} threads`, ""] : [])];
  const rows: Array<[string, number, number | undefined, number | undefined]> = [
    ["train RMSprop (img/s)", result.trainImagesPerSec.rmsprop, p?.trainImagesPerSec.rmsprop, r?.trainRmsprop],
    ["train Adam (img/s)", result.trainImagesPerSec.adam, p?.trainImagesPerSec.adam, r?.trainAdam],
    ["inference (img/s)", result.inferImagesPerSec, p?.inferImagesPerSec, r?.infer],
    ["peak RSS (MiB)", result.peakRssMiB, p?.peakRssMiB, r?.peakRss],
  ];
  const w0 = 24,
    w = Math.max(26, ...cols.map((c) => c.length + 2), ...sub.map((c) => c.length + 2));
  const row = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(w0) : c.padEnd(w)))
      .join("")
      .trimEnd();
  lines.push(row(["", ...cols]), row(["", ...sub]));
  for (const [name, ours, theirs, ratio] of rows) {
    lines.push(row([name, String(ours), ...(p ? [String(theirs), `${ratio!.toFixed(2)}×`] : [])]));
  }
  lines.push(`our training step (${result.trainingStep}), mean of ${PROFILED_STEPS} steps, kernels timed by tf.profile over as many more:`);
  for (const optimizer of REPORT_OPTIMIZERS) {
    const sp = result.stepSplit[optimizer];
    if (!sp) continue;
    lines.push(
      `  ${optimizer.padEnd(8)} ${sp.wallMs.toFixed(1)} ms: ` +
        `convolutions ${sp.convMs.toFixed(1)} ms (${(100 * sp.convShare).toFixed(0)}%), ` +
        `other kernels ${sp.otherKernelsMs.toFixed(1)} ms, outside kernels ${sp.outsideKernelsMs.toFixed(1)} ms ` +
        `(profiled: ${sp.profiledWallMs.toFixed(1)} ms)`,
    );
  }
  return `${lines.join("\n")}\n`;
}
