import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { removeStaleTemps, writeFileAtomic } from "../shared/atomic_file";
import { DamagedFileError, readCheckedDir, writeCheckedDir } from "../shared/checked_dir";
import { BatchStepper } from "./batch_step";
import { warmStart } from "./warm_start";
import { initBackend } from "../backend";
import {
  BestModelCheckpoint,
  CsvLogger,
  EarlyStopping,
  EpochLogger,
  ReduceLROnPlateau,
  getLearningRate,
  isStatefulCallback,
  setLearningRate,
  type EpochLogs,
  type LogSink,
} from "./callbacks";
import { MnistLabError, invalidParameterError } from "../shared/errors";
import { throwIfCellInterrupted } from "../shared/interrupts";
import { buildReportCnn, checkMnistModel, compileReportCnn, topologySha256 } from "../model/model";
import { makeOptimizer } from "./optimizers";
import {
  loadModelDir,
  loadWeightsIntoModel,
  modelToFiles,
  optimizerStateToFiles,
  restoreOptimizerState,
  saveModelDir,
} from "../model/model_io";
import { evaluateModel } from "../model/predict";
import type { LossName } from "../model/loss";
import { MNIST_IMAGE_BYTES } from "../data/data";
import { selectImages, splitTrainValidation, type LabelledImages } from "../data/preprocess";
import { machineInfo, type MachineInfo } from "../shared/machine";
import { defaultRunsDir } from "../shared/paths";
import { Rng, permutation } from "../shared/random";
import { formatStepsCsv, parseStepsCsv, type StepLog } from "./steps";
import {
  RUN_FILES,
  checkpointDirName,
  configLoss,
  listCheckpoints,
  loadRun,
  lockRun,
  resolveTrainConfig,
  runIdFor,
  type CheckpointState,
  type RunMetrics,
  type StoredRun,
  type TrainConfig,
  type TrainConfigInput,
} from "./runs";

/** Progress of the running epoch, after every batch: a notebook can render its own bar from it. */
export interface TrainProgress {
  /** `start`: a training (fresh or resumed) begins, before it logs anything; a finished run that loads reports nothing. */
  phase: "start" | "train" | "validate";
  /** 1-based. */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running means over the epoch so far (train phase). */
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface TrainRunOptions {
  data: { train: LabelledImages; test: LabelledImages };
  /** Parent of run directories (default: {@link defaultRunsDir}). */
  runsDir?: string;
  /** Delete any stored state of this config and train from scratch. */
  retrain?: boolean;
  /** A backend to switch to through initBackend ("cpu", "onednn", "wasm", "tensorflow", "auto"); default: keep the active one. */
  backend?: string;
  /** Where Keras-style lines go (default stdout). */
  log?: LogSink;
  /** Called after every completed (and checkpointed) epoch. */
  onEpoch?: (info: { epoch: number; epochs: number; logs: EpochLogs; runDir: string }) => void;
  onProgress?: (progress: TrainProgress) => void;
  /** Draw a progress bar on stdout (default: when stdout is a TTY and no custom log sink is given). */
  progressBar?: boolean;
  /** Extra tfjs callbacks, called after ours. */
  callbacks?: tfl.Callback[];
  /** Return the trained (or stored) model in the result (default true); the caller disposes it. */
  loadModel?: boolean;
  /** Stops training after the current batch when aborted, like SIGINT (Jupyter's Kernel › Interrupt, Ctrl-C). */
  signal?: AbortSignal;
}

/** The default log: one sink for the whole process, so a warning said once is not said again by the next run. */
const stdoutLog: LogSink = (line) => process.stdout.write(`${line}\n`);

/** Thrown by trainRun when it was interrupted: the epochs already checkpointed stay, and the same call resumes. */
export class TrainingInterrupted extends MnistLabError {
  /** The signal that stopped it (SIGINT, SIGTERM), or undefined for an AbortSignal. */
  readonly signal: NodeJS.Signals | undefined;
  constructor(message: string, signal?: NodeJS.Signals) {
    super(message);
    this.name = "TrainingInterrupted";
    this.signal = signal;
  }
}

/** Signals that stop a training after its current batch: Ctrl-C / Kernel › Interrupt, and a scheduler's or kill's TERM. */
const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** Runs this process is training now, by directory: a re-run notebook cell must never start a second loop on one. */
const activeTrainings = new Map<string, { stopping: boolean; signal?: NodeJS.Signals; done: Promise<unknown> }>();

export interface RunResult extends StoredRun {
  metrics: RunMetrics;
  /** How the result came about: trained from scratch, resumed from a checkpoint, or loaded finished. */
  status: "trained" | "resumed" | "loaded";
  /** Epochs already completed on disk when this call started (0 for a fresh run). */
  resumedFromEpoch: number;
  model?: tfl.LayersModel;
}

/** Float32 pixels of one split, in [0, 1], and its labels; uint8 input is scaled lazily per batch. */
class SplitReader {
  readonly count: number;
  constructor(
    readonly split: LabelledImages,
    limit: number | null,
    what: string,
  ) {
    if (split.images.length < split.count * MNIST_IMAGE_BYTES || split.labels.length < split.count) {
      throw invalidParameterError(`${what} images`, `${split.count} images of 28×28 and ${split.count} labels`, split.images);
    }
    this.count = limit === null ? split.count : Math.min(limit, split.count);
    if (this.count === 0) throw new MnistLabError(`Expected at least one image in ${what} but found none`);
  }
}

/**
 * Loss (categorical cross-entropy) and accuracy of `model` over the first `limit` images of a split, in
 * inference mode (dropout off, BatchNorm moving statistics): Keras's `validation_data` evaluation. The same
 * evaluateModel as 03_evaluate's, so the report's two accuracy figures come from one computation.
 */
export async function evaluateSplit(
  model: tfl.LayersModel,
  split: LabelledImages,
  options: {
    batchSize?: number;
    limit?: number | null;
    loss?: LossName;
    onBatch?: (batch: number, batches: number) => void;
  } = {},
): Promise<{ loss: number; accuracy: number; count: number }> {
  const reader = new SplitReader(split, options.limit ?? null, "evaluation data");
  const first = selectImages(split, null, reader.count);
  const evaluation = await evaluateModel(model, first, { batchSize: options.batchSize, onBatch: options.onBatch, loss: options.loss });
  return { loss: evaluation.loss, accuracy: evaluation.accuracy, count: evaluation.count };
}

/** A one-line terminal progress bar in Keras's shape, redrawn in place. */
class TerminalProgressBar {
  private lastDraw = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(p: TrainProgress): void {
    const now = performance.now();
    if (p.batch < p.batches && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const done = Math.round((width * p.batch) / p.batches);
    const bar = "=".repeat(Math.max(0, done - 1)) + (done > 0 ? (p.batch < p.batches ? ">" : "=") : "") + ".".repeat(width - done);
    const eta = p.batch > 0 ? (p.seconds / p.batch) * (p.batches - p.batch) : 0;
    const metrics = p.phase === "train" ? ` - loss: ${p.loss.toFixed(4)} - accuracy: ${p.accuracy.toFixed(4)}` : " - validating";
    this.stream.write(`\r\x1b[K${p.batch}/${p.batches} [${bar}] - ETA: ${Math.round(eta)}s${metrics}`);
  }
  clear(): void {
    this.stream.write("\r\x1b[K");
  }
}

/** Compiles `model` as the report does (the config's cross-entropy, accuracy) with the config's Keras-exact optimizer. */
function compileForRun(model: tfl.LayersModel, config: TrainConfig): tfl.LayersModel {
  const optimizer = makeOptimizer(config.optimizer, config.learningRate, { momentum: config.momentum, nesterov: config.nesterov });
  compileReportCnn(model, optimizer, configLoss(config));
  return model;
}

/** A model built in a notebook cell, given to trainModel: used as is (trained in place), never disposed by us. */
interface GivenModel {
  model: tfl.LayersModel;
}

/** The model a run trains: the report's CNN built from its knobs, or a model given by the caller. */
function modelForRun(config: TrainConfig, given?: GivenModel): tfl.LayersModel {
  if (given) return compileForRun(given.model, config);
  if (!config.model) throw new MnistLabError("Expected the report's CNN knobs or a given model but found neither");
  return compileForRun(buildReportCnn({ ...config.model, seed: config.seed }), config);
}

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function metricsFor(
  config: TrainConfig,
  runId: string,
  history: EpochLogs[],
  stoppedEarly: boolean,
  backends: string[],
  machines: Array<MachineInfo & { fromEpoch: number }>,
  counts: { train: number; validation: number },
): RunMetrics {
  const last = history[history.length - 1];
  let bestIndex = 0;
  history.forEach((h, i) => {
    if (h.val_accuracy > history[bestIndex].val_accuracy) bestIndex = i;
  });
  const seconds = history.map((h) => h.epoch_seconds);
  return {
    runId,
    optimizer: config.optimizer,
    epochs: config.epochs,
    epochsCompleted: history.length,
    stoppedEarly,
    valAccuracy: last.val_accuracy,
    valLoss: last.val_loss,
    trainAccuracy: last.accuracy,
    trainLoss: last.loss,
    bestValAccuracy: history[bestIndex].val_accuracy,
    bestEpoch: bestIndex + 1,
    finalLearningRate: last.lr,
    secondsPerEpoch: mean(seconds),
    totalSeconds: seconds.reduce((a, b) => a + b, 0),
    backends,
    machines,
    trainCount: counts.train,
    validationCount: counts.validation,
    machine: machineInfo(),
    finishedAt: new Date().toISOString(),
  };
}

/** Checkpoints kept on disk: the newest may be damaged (a disk error, a stray write), so one more stays. */
const CHECKPOINTS_KEPT = 2;

async function writeCheckpoint(runDir: string, model: tfl.LayersModel, state: CheckpointState, steps: readonly StepLog[]): Promise<void> {
  const root = path.join(runDir, RUN_FILES.checkpoints);
  const modelFiles = await modelToFiles(model);
  const optimizerFiles = await optimizerStateToFiles(model.optimizer);
  // A leftover directory of the same epoch is one that was not resumed from (damaged or newer): replace it.
  await writeCheckedDir(
    path.join(root, checkpointDirName(state.epochsCompleted)),
    {
      ...modelFiles,
      "optimizer.json": optimizerFiles.json,
      "optimizer.bin": optimizerFiles.bin,
      "state.json": JSON.stringify(state),
      [RUN_FILES.steps]: formatStepsCsv(steps),
    },
    { replace: true },
  );
  // Older checkpoints go only once the new one is in place.
  for (const old of listCheckpoints(runDir).slice(CHECKPOINTS_KEPT)) await fs.promises.rm(old.dir, { recursive: true, force: true });
}

/** Restores weights, optimizer state, run state and per-step history from a checkpoint, after checking every file's checksum. */
async function readCheckpoint(dir: string, model: tfl.LayersModel): Promise<CheckpointState & { steps: StepLog[] }> {
  const files = readCheckedDir(dir)!;
  const need = (name: string): Buffer => {
    const data = files.get(name);
    if (!data) throw new DamagedFileError(path.join(dir, name), "to be part of the checkpoint but checksums.json does not list it");
    return data;
  };
  const state = parseJsonFile<CheckpointState>(path.join(dir, "state.json"), need("state.json"));
  // Checkpoints written before per-step history was kept have none: the resumed run's steps start later.
  const stepsFile = files.get(RUN_FILES.steps);
  const steps = stepsFile ? parseStepsCsv(stepsFile.toString("utf8"), path.join(dir, RUN_FILES.steps)) : [];
  loadWeightsIntoModel(model, dir);
  await restoreOptimizerState(model.optimizer, need("optimizer.json").toString("utf8"), need("optimizer.bin"));
  return { ...state, steps };
}

function parseJsonFile<T>(file: string, data: Buffer): T {
  try {
    return JSON.parse(data.toString("utf8")) as T;
  } catch (err) {
    throw new DamagedFileError(file, `to be JSON but it is not (${(err as Error).message})`);
  }
}

/**
 * Restores the newest intact checkpoint. A damaged one is named in the log and renamed `<dir>.damaged` (kept
 * for inspection, never read again) before the next older one is tried. Returns undefined when none is intact.
 */
async function restoreNewestCheckpoint(
  runDir: string,
  model: tfl.LayersModel,
  log: LogSink,
): Promise<{ dir: string; state: CheckpointState & { steps: StepLog[] } } | undefined> {
  for (const checkpoint of listCheckpoints(runDir)) {
    try {
      return { dir: checkpoint.dir, state: await readCheckpoint(checkpoint.dir, model) };
    } catch (err) {
      if (!(err instanceof DamagedFileError)) throw err;
      const aside = `${checkpoint.dir}.damaged`;
      await fs.promises.rm(aside, { recursive: true, force: true });
      await fs.promises.rename(checkpoint.dir, aside);
      log(`Checkpoint ${checkpoint.dir} is damaged: ${err.message}; moved it to ${aside} and trying an older one`);
    }
  }
  return undefined;
}

async function switchBackend(name: string | undefined): Promise<string> {
  // initBackend registers and starts backends by name (cpu, wasm, onednn, tensorflow) and explains failures.
  if (name !== undefined && name !== tf.getBackend()) await initBackend(name);
  await tf.ready();
  const active = tf.getBackend();
  // The chain can fall back to wasm, which runs inference but has no gradient for convolutions.
  if (!tf.getKernel("Conv2DBackpropFilter", active)) {
    throw new MnistLabError(
      `Expected a tfjs backend that can train convolutions (onednn, tensorflow or cpu) but the active one is ${active}, ` +
        "which has no Conv2DBackpropFilter kernel; fix the onednn backend (`mnist-lab backend` says why it did not load) " +
        "or pass --backend cpu (very slow)",
    );
  }
  return active;
}

/**
 * Trains the report's CNN like Keras `fit` on an `ImageDataGenerator`: seeded shuffle every epoch,
 * on-the-fly augmentation, validation every epoch, ReduceLROnPlateau, Keras `verbose=2` lines, and a
 * checkpoint after every epoch under `runs/<id>/`. Calling it again with the same config resumes after
 * the last completed epoch, or returns the finished run from disk (unless `retrain`).
 *
 * @example
 * const mnist = await loadMnist();
 * const run = await trainRun({ optimizer: "adam", epochs: 40 }, { data: mnist });
 * run.metrics.valAccuracy;
 */
export async function trainRun(input: TrainConfigInput, options: TrainRunOptions): Promise<RunResult> {
  return runTraining(withDataFingerprint(resolveTrainConfig(input), options.data), options);
}

/** Training input for trainModel: trainRun's config without the report's model knobs. */
export type ExperimentConfigInput = Omit<TrainConfigInput, "model" | "architecture">;

/**
 * Trains any `tf.LayersModel` built in a cell (28×28×1 images in, 10 softmax probabilities out) with everything
 * trainRun gives the report's CNN: augmentation, the Keras-exact optimizers (and SGD with momentum), callbacks,
 * Keras logs, progress, checkpoints and resume. The run is cached by the model's topology (layer names left
 * out, so rebuilding the same model finds it) + the config + the data: a finished run loads its weights into
 * `model` instead of training. `model` is trained in place and returned as `result.model`.
 *
 * @example
 * const model = tf.sequential({
 *   layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10, activation: "softmax" })],
 * });
 * const run = await trainModel(model, { optimizer: "sgd", momentum: 0.9, learningRate: 0.01, epochs: 2 }, { data: mnist });
 */
export async function trainModel(
  model: tfl.LayersModel,
  input: ExperimentConfigInput,
  options: TrainRunOptions & { name?: string },
): Promise<RunResult> {
  checkMnistModel(model);
  // The label is for the log only: the same model under two labels is one run.
  const architecture = { sha256: topologySha256(model), parameters: model.countParams() };
  if (options.name) (options.log ?? stdoutLog)(`${options.name}: ${architecture.parameters.toLocaleString("en")} parameters`);
  const config = withDataFingerprint(resolveTrainConfig({ ...input, model: null, architecture }), options.data);
  return runTraining(config, { ...options, loadModel: true }, { model });
}

/** Data other than the verified MNIST files becomes part of the run's identity. */
function withDataFingerprint(config: TrainConfig, data: TrainRunOptions["data"]): TrainConfig {
  if ((data as { checksums?: string }).checksums === "verified") return config;
  const hash = createHash("sha256");
  for (const split of [data.train, data.test]) {
    hash.update(new Uint8Array(split.images.buffer, split.images.byteOffset, split.images.byteLength));
    hash.update(Uint8Array.from(Array.prototype.slice.call(split.labels, 0, split.count) as number[]));
  }
  return { ...config, dataSha256: hash.digest("hex") };
}

/** Everything one training call works with, resolved once in runTraining. */
interface RunContext {
  config: TrainConfig;
  runId: string;
  runDir: string;
  backend: string;
  log: LogSink;
  options: TrainRunOptions;
  wantModel: boolean;
  entry: { stopping: boolean; signal?: NodeJS.Signals };
  given: GivenModel | undefined;
}

function loadStoredInto(model: tfl.LayersModel, runDir: string): tfl.LayersModel {
  loadWeightsIntoModel(model, path.join(runDir, RUN_FILES.model));
  return model;
}

/** How many trainings run in this process and have not been asked to stop: each prints its own line on an interrupt. */
export function trainingsInProgress(): number {
  return [...activeTrainings.values()].filter((entry) => !entry.stopping).length;
}

async function runTraining(config: TrainConfig, options: TrainRunOptions, given?: GivenModel): Promise<RunResult> {
  throwIfCellInterrupted(`training of ${config.optimizer}`);
  // A limit past the data would be cut silently, yet name the run by it.
  const trainImages = options.data.train.count;
  if (config.trainLimit !== null && config.trainLimit > trainImages) {
    throw invalidParameterError("trainLimit", `at most ${trainImages} (the training images given)`, config.trainLimit);
  }
  const testImages = options.data.test.count;
  if (config.validation === "test" && config.validationLimit !== null && config.validationLimit > testImages) {
    throw invalidParameterError("validationLimit", `at most ${testImages} (the test images given)`, config.validationLimit);
  }
  const runId = runIdFor(config);
  const runsDir = path.resolve(options.runsDir ?? defaultRunsDir());
  const runDir = path.join(runsDir, runId);
  const log = options.log ?? stdoutLog;
  const wantModel = options.loadModel ?? true;
  const backend = await switchBackend(options.backend);

  const active = activeTrainings.get(runDir);
  if (active && !active.stopping) {
    throw new MnistLabError(
      `Expected run ${runId} to be free but this process is training it already (another cell?); ` +
        "interrupt that cell (Kernel › Interrupt) or wait for it",
    );
  }
  if (active) {
    log(`Waiting for the interrupted training of ${runId} to stop after its current batch …`);
    await active.done.catch(() => undefined);
  }
  const entry = { stopping: false, done: Promise.resolve() as Promise<unknown> };
  const started = trainLocked({ config, runId, runDir, backend, log, options, wantModel, entry, given });
  entry.done = started;
  activeTrainings.set(runDir, entry);
  try {
    return await started;
  } finally {
    if (activeTrainings.get(runDir) === entry) activeTrainings.delete(runDir);
  }
}

async function trainLocked(run: RunContext): Promise<RunResult> {
  const { runId, runDir, log, options, wantModel, given } = run;
  const release = lockRun(runDir);
  try {
    if (options.retrain) {
      for (const name of fs.readdirSync(runDir))
        if (name !== RUN_FILES.lock) fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
    }
    await removeStaleTemps(runDir);
    await removeStaleTemps(path.join(runDir, RUN_FILES.checkpoints));
    const configFile = path.join(runDir, RUN_FILES.config);
    if (fs.existsSync(configFile)) {
      const stored = fs.readFileSync(configFile, "utf8");
      if (stored !== JSON.stringify(run.config, null, 2)) {
        throw new MnistLabError(`Expected ${configFile} to hold this run's config but it differs; pass retrain to start over`);
      }
    } else {
      await writeFileAtomic(configFile, JSON.stringify(run.config, null, 2));
    }

    const stored = loadRun(runDir);
    if (stored.metrics) {
      log(`Run ${runId} is finished (${stored.metrics.epochsCompleted} epochs): loaded from ${runDir}`);
      return {
        ...stored,
        metrics: stored.metrics,
        status: "loaded",
        resumedFromEpoch: stored.metrics.epochsCompleted,
        model: given ? loadStoredInto(given.model, runDir) : wantModel ? await loadModelDir(path.join(runDir, RUN_FILES.model)) : undefined,
      };
    }
    return await trainFromCheckpoint(run);
  } finally {
    release();
  }
}

async function trainFromCheckpoint(run: RunContext): Promise<RunResult> {
  const { config, runId, runDir, backend, log, options, wantModel, entry, given } = run;
  options.onProgress?.({ phase: "start", epoch: 0, epochs: config.epochs, batch: 0, batches: 0, loss: NaN, accuracy: NaN, seconds: 0 });
  // Data: the first trainLimit training images, then optionally a stratified held-out part of them.
  let trainSplit: LabelledImages = options.data.train;
  let validationSplit: LabelledImages = options.data.test;
  if (config.trainLimit !== null && config.trainLimit < trainSplit.count) trainSplit = selectImages(trainSplit, null, config.trainLimit);
  if (config.validation === "split") {
    const { trainIndices, validationIndices } = splitTrainValidation(trainSplit.count, {
      validationFraction: config.validationFraction,
      seed: config.seed,
      stratifyLabels: Array.prototype.slice.call(trainSplit.labels, 0, trainSplit.count) as number[],
    });
    validationSplit = selectImages(trainSplit, validationIndices);
    trainSplit = selectImages(trainSplit, trainIndices);
  }
  const train = new SplitReader(trainSplit, null, "training data");
  const validationCount = new SplitReader(validationSplit, config.validationLimit, "validation data").count;

  const model = modelForRun(config, given);
  let keepModel = given !== undefined;
  try {
    let rng = new Rng(config.seed);
    let history: EpochLogs[] = [];
    let backends: string[] = [];
    let machines: Array<MachineInfo & { fromEpoch: number }> = [];
    let startEpoch = 0;
    let stopTraining = false;
    let callbackStates: CheckpointState["callbacks"] = {};
    let steps: StepLog[] = [];
    const stepper = new BatchStepper(train.split, train.count, config);
    const checkpoint = await restoreNewestCheckpoint(runDir, model, log);
    if (!checkpoint) steps = await warmStart(model, config, { runsDir: path.dirname(runDir), stepper, rng, log });
    if (checkpoint) {
      const state = checkpoint.state;
      rng = new Rng(state.rngState);
      history = state.history;
      steps = state.steps;
      backends = state.backends;
      machines = state.machines ?? [];
      startEpoch = state.epochsCompleted;
      stopTraining = state.stopTraining;
      callbackStates = state.callbacks;
      setLearningRate(model.optimizer, state.learningRate);
      log(`Resuming run ${runId} after epoch ${startEpoch}/${config.epochs} from ${checkpoint.dir}`);
    }
    if (backends[backends.length - 1] !== backend) backends.push(backend);
    // A run resumed on another CPU is no longer one ISA's result: each machine is kept with the first epoch it ran.
    const machine = machineInfo();
    const lastMachine = machines[machines.length - 1];
    if (!lastMachine || lastMachine.cpu !== machine.cpu || lastMachine.isa !== machine.isa)
      machines.push({ ...machine, fromEpoch: startEpoch + 1 });

    const callbacks: tfl.Callback[] = [new EpochLogger({ log, epochs: config.epochs })];
    if (config.reduceLr) callbacks.push(new ReduceLROnPlateau({ ...config.reduceLr, verbose: 1, log }));
    if (config.earlyStopping) callbacks.push(new EarlyStopping({ ...config.earlyStopping, verbose: 1, log }));
    callbacks.push(new BestModelCheckpoint({ dir: path.join(runDir, RUN_FILES.best), monitor: "val_accuracy", log }));
    callbacks.push(new CsvLogger({ file: path.join(runDir, RUN_FILES.history) }));
    callbacks.push(...(options.callbacks ?? []));
    const batchesPerEpoch = stepper.batchesPerEpoch;
    for (const cb of callbacks) {
      cb.setModel(model);
      cb.setParams({
        epochs: config.epochs,
        initialEpoch: startEpoch,
        samples: train.count,
        steps: batchesPerEpoch,
        batchSize: config.batchSize,
        verbose: 2,
      });
      await cb.onTrainBegin();
      // Keras callbacks reset in on_train_begin; a resumed run then takes back its saved state.
      if (isStatefulCallback(cb) && callbackStates[cb.stateKey]) cb.setState(callbackStates[cb.stateKey]);
    }

    const resumedFromEpoch = startEpoch;
    const bar = (options.progressBar ?? (process.stdout.isTTY && !options.log)) ? new TerminalProgressBar(process.stdout) : undefined;
    model.stopTraining = stopTraining;

    // tslab answers Kernel › Interrupt by ending the cell, not the work; these listeners stop the loop itself.
    const requestStop = (signal?: NodeJS.Signals) => {
      if (entry.stopping) return;
      entry.stopping = true;
      entry.signal = signal;
      log(`Interrupted: training of ${runId} stops after the current batch; run the same cell or command again to resume.`);
    };
    const onAbort = () => requestStop();
    for (const signal of STOP_SIGNALS) process.on(signal, requestStop);
    options.signal?.addEventListener("abort", onAbort);
    if (options.signal?.aborted) requestStop();
    try {
      const interrupted = (epoch: number) =>
        new TrainingInterrupted(
          `Training of ${runId} was interrupted in epoch ${epoch + 1}/${config.epochs}; ${epoch} epoch(s) are saved in ${runDir}: ` +
            `the same call resumes after epoch ${epoch}`,
          entry.signal,
        );
      for (let epoch = startEpoch; epoch < config.epochs && !model.stopTraining; epoch++) {
        await new Promise((resolve) => setImmediate(resolve));
        if (entry.stopping) throw interrupted(epoch);
        const started = performance.now();
        for (const cb of callbacks) await cb.onEpochBegin(epoch);
        const learningRate = getLearningRate(model.optimizer);
        const order = permutation(train.count, rng);
        let lossSum = 0;
        let correctSum = 0;
        const epochSteps: StepLog[] = [];
        for (let b = 0; b < batchesPerEpoch; b++) {
          // A signal's handler runs only when the loop yields to the event loop: once per batch, so a stop waits one batch.
          await new Promise((resolve) => setImmediate(resolve));
          if (entry.stopping) throw interrupted(epoch);
          const from = b * config.batchSize;
          const { n, loss, accuracy } = await stepper.step(model, order, b, rng);
          lossSum += loss * n;
          correctSum += accuracy * n;
          epochSteps.push({ epoch: epoch + 1, step: b + 1, size: n, loss, correct: Math.round(accuracy * n) });
          const progress: TrainProgress = {
            phase: "train",
            epoch: epoch + 1,
            epochs: config.epochs,
            batch: b + 1,
            batches: batchesPerEpoch,
            loss: lossSum / (from + n),
            accuracy: correctSum / (from + n),
            seconds: (performance.now() - started) / 1000,
          };
          bar?.update(progress);
          options.onProgress?.(progress);
        }
        const validation = await evaluateSplit(model, validationSplit, {
          batchSize: Math.max(config.batchSize, 256),
          limit: config.validationLimit,
          loss: configLoss(config),
          onBatch: (batch, batches) =>
            options.onProgress?.({
              phase: "validate",
              epoch: epoch + 1,
              epochs: config.epochs,
              batch,
              batches,
              loss: lossSum / train.count,
              accuracy: correctSum / train.count,
              seconds: (performance.now() - started) / 1000,
            }),
        });
        bar?.clear();
        const logs: EpochLogs = {
          loss: lossSum / train.count,
          accuracy: correctSum / train.count,
          val_loss: validation.loss,
          val_accuracy: validation.accuracy,
          lr: learningRate,
          epoch_seconds: (performance.now() - started) / 1000,
        };
        for (const cb of callbacks) await cb.onEpochEnd(epoch, { ...logs });
        history.push(logs);
        steps = steps.concat(epochSteps);
        const states: CheckpointState["callbacks"] = {};
        for (const cb of callbacks) if (isStatefulCallback(cb)) states[cb.stateKey] = cb.getState();
        await writeCheckpoint(
          runDir,
          model,
          {
            epochsCompleted: epoch + 1,
            learningRate: getLearningRate(model.optimizer),
            rngState: rng.state(),
            stopTraining: model.stopTraining,
            history,
            callbacks: states,
            backends,
            machines,
          },
          steps,
        );
        options.onEpoch?.({ epoch: epoch + 1, epochs: config.epochs, logs, runDir });
      }
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, requestStop);
      options.signal?.removeEventListener("abort", onAbort);
    }
    for (const cb of callbacks) await cb.onTrainEnd();

    await saveModelDir(model, path.join(runDir, RUN_FILES.model));
    await writeFileAtomic(path.join(runDir, RUN_FILES.steps), formatStepsCsv(steps));
    const metrics = metricsFor(config, runId, history, history.length < config.epochs, backends, machines, {
      train: train.count,
      validation: validationCount,
    });
    await writeFileAtomic(path.join(runDir, RUN_FILES.metrics), JSON.stringify(metrics, null, 2));
    keepModel = wantModel;
    return {
      runId,
      runDir,
      config,
      history,
      metrics,
      status: resumedFromEpoch > 0 ? "resumed" : "trained",
      resumedFromEpoch,
      model: keepModel ? model : undefined,
    };
  } finally {
    if (!keepModel) {
      model.optimizer?.dispose();
      model.dispose();
    }
  }
}
