// Throughput benchmark of the report's CNN on the active tfjs backend, optionally beside PyTorch's
// reference script (../shared/bench/pytorch_cnn.py) run in the same process tree, so ratios compare like with like.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, releasePooledMemory, type BackendReport } from "./backend";
import { loadMnist } from "./data";
import { buildReportCnn, compileReportCnn, makeOptimizer, predictLean, type OptimizerName, type ReportOptimizer } from "./model";
import { projectRoot } from "./paths";

export interface BenchOptions {
  /** Timed training steps per optimizer after `warmupSteps` (default 20, as pytorch_cnn.py). */
  steps?: number;
  warmupSteps?: number;
  /** Images per training step (the report: 86). */
  batchSize?: number;
  /** Images per inference batch (default 1000). */
  inferBatchSize?: number;
  /** tfjs backend (default: MNIST_BACKEND, else the chain). */
  backend?: string;
  /** Also run the PyTorch reference for both optimizers and report ratios. */
  comparePytorch?: boolean;
  /** Path of pytorch_cnn.py (default ../shared/bench/pytorch_cnn.py beside the project). */
  pytorchScript?: string;
  /** Interpreter with torch (default /usr/bin/python3). */
  python?: string;
  /** Rounds of (ours, then PyTorch's) run back to back; each figure is the best round's, which tames a busy machine (default 1). */
  rounds?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface PytorchFigures {
  engine: string;
  trainImagesPerSec: Record<ReportOptimizer, number>;
  inferImagesPerSec: number;
  peakRssMiB: number;
}

export interface BenchResult {
  backend: string;
  /** "mnist" when the MNIST training images were found, else "random". */
  data: "mnist" | "random";
  batchSize: number;
  steps: number;
  rounds: number;
  trainImagesPerSec: Record<ReportOptimizer, number>;
  inferImagesPerSec: number;
  /** Seconds per 60,000-image epoch at the measured training speed. */
  epochSeconds: Record<ReportOptimizer, number>;
  /** Peak resident memory of this process (MiB). */
  peakRssMiB: number;
  /** Resident memory after warm-up and at the end of each optimizer's run (MiB), to show it stays flat. */
  rssMiB: Record<ReportOptimizer, { afterWarmup: number; end: number }>;
  numTensors: Record<ReportOptimizer, { afterWarmup: number; end: number }>;
  pytorch?: PytorchFigures;
  /** Ours divided by PyTorch's (> 1: faster; for RSS > 1: more memory). */
  ratios?: { trainRmsprop: number; trainAdam: number; infer: number; peakRss: number };
}

const EPOCH_IMAGES = 60_000;
const round1 = (v: number) => Math.round(v * 10) / 10;
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
    images = new Uint8Array(count * 784);
    labels = new Uint8Array(count);
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) & 255;
    for (let i = 0; i < images.length; i++) images[i] = rnd();
    for (let i = 0; i < count; i++) labels[i] = rnd() % 10;
    kind = "random";
  }
  let offset = 0;
  return {
    kind,
    next() {
      if (offset + batchSize > count) offset = 0;
      const x = new Float32Array(batchSize * 784);
      for (let i = 0; i < x.length; i++) x[i] = images[offset * 784 + i] / 255;
      const y = new Float32Array(batchSize * 10);
      for (let i = 0; i < batchSize; i++) y[i * 10 + labels[offset + i]] = 1;
      offset += batchSize;
      return { x: tf.tensor4d(x, [batchSize, 28, 28, 1]), y: tf.tensor2d(y, [batchSize, 10]) };
    },
  };
}

async function trainSpeed(optimizer: OptimizerName, batches: Batches, o: Required<Pick<BenchOptions, "steps" | "warmupSteps" | "batchSize">>, log: (l: string) => void) {
  const model = buildReportCnn({ seed: 42 });
  compileReportCnn(model, makeOptimizer(optimizer));
  const step = async () => {
    const { x, y } = batches.next();
    await model.trainOnBatch(x, y);
    tf.dispose([x, y]);
  };
  for (let i = 0; i < o.warmupSteps; i++) await step();
  const rssAfterWarmup = process.memoryUsage().rss;
  const tensorsAfterWarmup = tf.memory().numTensors;
  const started = performance.now();
  const every = Math.max(1, Math.floor(o.steps / 5));
  for (let i = 1; i <= o.steps; i++) {
    await step();
    if (i % every === 0 || i === o.steps) log(`  ${optimizer} step ${i}/${o.steps}: ${round1((o.batchSize * i) / ((performance.now() - started) / 1000))} img/s, rss ${mib(process.memoryUsage().rss)} MiB`);
  }
  const seconds = (performance.now() - started) / 1000;
  const result = {
    imagesPerSec: round1((o.batchSize * o.steps) / seconds),
    rss: { afterWarmup: mib(rssAfterWarmup), end: mib(process.memoryUsage().rss) },
    tensors: { afterWarmup: tensorsAfterWarmup, end: tf.memory().numTensors },
    model,
  };
  return result;
}

function inferSpeed(model: ReturnType<typeof buildReportCnn>, batchSize: number): number {
  const x = tf.randomUniform([batchSize, 28, 28, 1]);
  const once = () => {
    const t0 = performance.now();
    const p = predictLean(model, x);
    p.dataSync();
    p.dispose();
    return performance.now() - t0;
  };
  once();
  const ms = Math.min(once(), once());
  x.dispose();
  return round1(batchSize / (ms / 1000));
}

/** Default location of PyTorch's reference script: ../shared/bench/pytorch_cnn.py beside the project. */
export function defaultPytorchScript(): string {
  return path.resolve(projectRoot(), "..", "shared", "bench", "pytorch_cnn.py");
}

/** Runs pytorch_cnn.py for both optimizers, wrapped to also report its peak RSS; throws with its stderr on failure. */
export function runPytorchReference(options: { script?: string; python?: string; steps?: number; batchSize?: number } = {}): PytorchFigures {
  const script = options.script ?? defaultPytorchScript();
  const python = options.python ?? "/usr/bin/python3";
  if (!fs.existsSync(script)) throw new Error(`Expected PyTorch's reference script at ${script} but it does not exist (see --pytorch-script)`);
  // Runs the script unchanged in-process, then prints this process's peak RSS, so memory compares too.
  const wrapper = [
    "import json, resource, runpy, sys",
    "sys.argv = sys.argv[1:]",
    "runpy.run_path(sys.argv[0], run_name='__main__')",
    "print(json.dumps({'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))",
  ].join("\n");
  const trainImagesPerSec: Partial<Record<ReportOptimizer, number>> = {};
  let engine = "pytorch", inferImagesPerSec = 0, peak = 0;
  for (const optimizer of ["rmsprop", "adam"] as ReportOptimizer[]) {
    const args = ["-c", wrapper, script, "--optimizer", optimizer, "--steps", String(options.steps ?? 20), "--batch", String(options.batchSize ?? 86)];
    const r = spawnSync(python, args, { encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
    if (r.error || r.status !== 0) {
      throw new Error(`Expected ${python} ${script} to succeed but it ${r.error ? `failed to start: ${r.error.message}` : `exited with ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`}`);
    }
    const lines = r.stdout.trim().split("\n");
    const result = JSON.parse(lines[lines.length - 2]) as { engine: string; train_images_per_s: number; infer_images_per_s: number };
    peak = Math.max(peak, (JSON.parse(lines[lines.length - 1]) as { peakRssMiB: number }).peakRssMiB);
    engine = result.engine;
    trainImagesPerSec[optimizer] = result.train_images_per_s;
    inferImagesPerSec = Math.max(inferImagesPerSec, result.infer_images_per_s);
  }
  return { engine, trainImagesPerSec: trainImagesPerSec as Record<ReportOptimizer, number>, inferImagesPerSec, peakRssMiB: round1(peak) };
}

/**
 * Trains the report's CNN on batches of 86 with RMSprop and with Adam, then times inference on a batch of 1000.
 * @example
 * const result = await runBench({ steps: 5 });
 * result.trainImagesPerSec.adam; // images per second
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult & { backendReport: BackendReport }> {
  const log = options.log ?? (() => undefined);
  const o = { steps: options.steps ?? 20, warmupSteps: options.warmupSteps ?? 3, batchSize: options.batchSize ?? 86 };
  const rounds = Math.max(1, options.rounds ?? 1);
  const backendReport = await initBackend(options.backend);
  log(`backend: ${backendReport.active}`);
  const batches = await makeBatches(o.batchSize);
  log(`data: ${batches.kind === "mnist" ? "MNIST training images" : "random images (MNIST not found)"}`);
  const train: Record<ReportOptimizer, number> = { rmsprop: 0, adam: 0 };
  const rss = {} as BenchResult["rssMiB"];
  const tensors = {} as BenchResult["numTensors"];
  let infer = 0;
  let pt: PytorchFigures | undefined;
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) log(`round ${round}/${rounds}`);
    for (const optimizer of ["rmsprop", "adam"] as ReportOptimizer[]) {
      const r = await trainSpeed(optimizer, batches, o, log);
      train[optimizer] = Math.max(train[optimizer], r.imagesPerSec);
      rss[optimizer] = r.rss;
      tensors[optimizer] = r.tensors;
      if (optimizer === "adam") {
        // Training's pooled arrays fit no inference shape: let them go before the batch of 1000.
        releasePooledMemory();
        infer = Math.max(infer, inferSpeed(r.model, options.inferBatchSize ?? 1000));
        // ...and the inference batch's fit no training shape of the next round.
        releasePooledMemory();
      }
      // model.dispose() leaves an optimizer passed in as an object (its slot variables) to its owner.
      r.model.optimizer.dispose();
      r.model.dispose();
    }
    log(`inference: ${infer} img/s`);
    if (options.comparePytorch) {
      log("running PyTorch's reference (both optimizers)...");
      const p = runPytorchReference({ script: options.pytorchScript, python: options.python, steps: o.steps, batchSize: o.batchSize });
      log(`  ${p.engine}: rmsprop ${p.trainImagesPerSec.rmsprop}, adam ${p.trainImagesPerSec.adam}, infer ${p.inferImagesPerSec} img/s`);
      pt = !pt ? p : {
        engine: p.engine,
        trainImagesPerSec: {
          rmsprop: Math.max(pt.trainImagesPerSec.rmsprop, p.trainImagesPerSec.rmsprop),
          adam: Math.max(pt.trainImagesPerSec.adam, p.trainImagesPerSec.adam),
        },
        inferImagesPerSec: Math.max(pt.inferImagesPerSec, p.inferImagesPerSec),
        peakRssMiB: Math.max(pt.peakRssMiB, p.peakRssMiB),
      };
    }
  }
  const result: BenchResult & { backendReport: BackendReport } = {
    backend: backendReport.active,
    data: batches.kind,
    batchSize: o.batchSize,
    steps: o.steps,
    rounds,
    trainImagesPerSec: train,
    inferImagesPerSec: infer,
    epochSeconds: { rmsprop: round1(EPOCH_IMAGES / train.rmsprop), adam: round1(EPOCH_IMAGES / train.adam) },
    peakRssMiB: round1(process.resourceUsage().maxRSS / 1024),
    rssMiB: rss,
    numTensors: tensors,
    backendReport,
  };
  if (pt) {
    result.pytorch = pt;
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    result.ratios = {
      trainRmsprop: ratio(train.rmsprop, pt.trainImagesPerSec.rmsprop),
      trainAdam: ratio(train.adam, pt.trainImagesPerSec.adam),
      infer: ratio(infer, pt.inferImagesPerSec),
      peakRss: ratio(result.peakRssMiB, pt.peakRssMiB),
    };
  }
  return result;
}
