import { createHash } from "node:crypto";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { BatchStepper } from "./batch_step";
import { trainingStepKind } from "./fused_step";
import { warmStart } from "./warm_start";
import { OpenRun } from "./open_run";
import { alreadyTrainingHere } from "../shared/run_lock";
import { backendThreads, initBackend, setConvPrecision } from "../backend";
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
import { checkModelSize } from "../model/model_size";
import { evaluateModel } from "../model/predict";
import type { LossName } from "../model/loss";
import { MNIST_IMAGE_BYTES } from "../data/data";
import { selectImages, splitTrainValidation, type LabelledImages } from "../data/preprocess";
import { machineInfo, type RunMachine } from "../shared/machine";
import { defaultRunsDir } from "../shared/paths";
import { Rng, permutation } from "../shared/random";
import type { StepLog } from "./steps";
import {
  RUN_FILES,
  configLoss,
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
  // Built already, but training holds about four times its weights: refuse before that.
  checkModelSize(model.countParams(), "the model to train");
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
    throw alreadyTrainingHere(runId);
  }
  if (active) {
    log(`Waiting for the interrupted training of ${runId} to stop after its current batch …`);
    await active.done.catch(() => undefined);
  }
  // The run's number format holds while it trains and validates (a CPU without bf16 refuses here, before any work).
  const previousPrecision = setConvPrecision(config.precision === "mixed_bfloat16" ? "bfloat16" : "float32");
  const entry = { stopping: false, done: Promise.resolve() as Promise<unknown> };
  const started = trainLocked({ config, runId, runDir, backend, log, options, wantModel, entry, given });
  entry.done = started;
  activeTrainings.set(runDir, entry);
  try {
    return await started;
  } finally {
    if (activeTrainings.get(runDir) === entry) activeTrainings.delete(runDir);
    setConvPrecision(previousPrecision);
  }
}

async function trainLocked(run: RunContext): Promise<RunResult> {
  const { runId, runDir, log, options, wantModel, given } = run;
  const home = await OpenRun.open(run.config, runId, runDir, { retrain: options.retrain });
  try {
    const stored = home.stored();
    if (!stored.metrics) return await trainFromCheckpoint(run, home);
    log(`Run ${runId} is finished (${stored.metrics.epochsCompleted} epochs): loaded from ${runDir}`);
    return {
      ...stored,
      metrics: stored.metrics,
      status: "loaded",
      resumedFromEpoch: stored.metrics.epochsCompleted,
      model: given || wantModel ? await home.finishedModel(given?.model) : undefined,
    };
  } finally {
    home.close();
  }
}

/** The training split (the first trainLimit images, less a stratified held-out part) and the validation split. */
function runSplits(
  config: TrainConfig,
  data: TrainRunOptions["data"],
): { train: SplitReader; validation: LabelledImages; validationCount: number } {
  let trainSplit: LabelledImages = data.train;
  let validationSplit: LabelledImages = data.test;
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
  return {
    train: new SplitReader(trainSplit, null, "training data"),
    validation: validationSplit,
    validationCount: new SplitReader(validationSplit, config.validationLimit, "validation data").count,
  };
}

/** Where a fit stands between epochs: what a checkpoint saves, with the per-step log so far. */
interface FitState {
  rng: Rng;
  history: EpochLogs[];
  steps: StepLog[];
  backends: string[];
  machines: RunMachine[];
  /** Epochs completed before this call. */
  startEpoch: number;
  stopTraining: boolean;
  callbackStates: CheckpointState["callbacks"];
}

/** The state to go on from: the newest intact checkpoint, else a fresh start (after the config's warm start, if any). */
async function resumeOrStart(run: RunContext, home: OpenRun, model: tfl.LayersModel, stepper: BatchStepper): Promise<FitState> {
  const { config, log } = run;
  const checkpoint = await home.restoreNewest(model, log);
  let state: FitState;
  if (checkpoint) {
    const saved = checkpoint.state;
    setLearningRate(model.optimizer, saved.learningRate);
    log(`Resuming run ${run.runId} after epoch ${saved.epochsCompleted}/${config.epochs} from ${checkpoint.dir}`);
    state = {
      rng: new Rng(saved.rngState),
      history: saved.history,
      steps: saved.steps,
      backends: saved.backends,
      machines: saved.machines ?? [],
      startEpoch: saved.epochsCompleted,
      stopTraining: saved.stopTraining,
      callbackStates: saved.callbacks,
    };
  } else {
    const rng = new Rng(config.seed);
    const steps = await warmStart(model, config, { runsDir: path.dirname(run.runDir), stepper, rng, log });
    state = { rng, history: [], steps, backends: [], machines: [], startEpoch: 0, stopTraining: false, callbackStates: {} };
  }
  // The fused step and trainOnBatch round differently: a run says which trained each part of it.
  const backend = trainingStepKind(model) === "fused" ? `${run.backend} (fused step)` : run.backend;
  if (state.backends[state.backends.length - 1] !== backend) state.backends.push(backend);
  // A run resumed on another CPU, or on another thread count (oneDNN's reductions split by thread), is no longer one
  // machine's result: each is kept with the first epoch it ran (a run recorded before threads were keeps its entry).
  const threads = backendThreads(run.backend);
  // No key rather than an undefined one: the run in memory equals the run read back from its JSON.
  const machine = { ...machineInfo(), ...(threads === undefined ? {} : { threads }) };
  const last = state.machines[state.machines.length - 1];
  if (!last || last.cpu !== machine.cpu || last.isa !== machine.isa || (last.threads !== undefined && last.threads !== machine.threads))
    state.machines.push({ ...machine, fromEpoch: state.startEpoch + 1 });
  return state;
}

/** Keras's callbacks of the recipe (and the caller's), begun as `fit` begins them, with a resumed run's saved state. */
async function beginCallbacks(
  run: RunContext,
  model: tfl.LayersModel,
  state: FitState,
  shape: { samples: number; steps: number },
): Promise<tfl.Callback[]> {
  const { config, log, runDir } = run;
  const callbacks: tfl.Callback[] = [new EpochLogger({ log, epochs: config.epochs })];
  if (config.reduceLr) callbacks.push(new ReduceLROnPlateau({ ...config.reduceLr, verbose: 1, log }));
  if (config.earlyStopping) callbacks.push(new EarlyStopping({ ...config.earlyStopping, verbose: 1, log }));
  callbacks.push(new BestModelCheckpoint({ dir: path.join(runDir, RUN_FILES.best), monitor: "val_accuracy", log }));
  callbacks.push(new CsvLogger({ file: path.join(runDir, RUN_FILES.history) }));
  callbacks.push(...(run.options.callbacks ?? []));
  for (const cb of callbacks) {
    cb.setModel(model);
    cb.setParams({ epochs: config.epochs, initialEpoch: state.startEpoch, ...shape, batchSize: config.batchSize, verbose: 2 });
    await cb.onTrainBegin();
    // Keras callbacks reset in on_train_begin; a resumed run then takes back its saved state.
    if (isStatefulCallback(cb) && state.callbackStates[cb.stateKey]) cb.setState(state.callbackStates[cb.stateKey]);
  }
  return callbacks;
}

/**
 * Listens for SIGINT/SIGTERM and the caller's AbortSignal while `work` runs: each asks the loop to stop after its
 * current batch (tslab answers Kernel › Interrupt by ending the cell, not the work).
 */
async function whileStoppable<T>(run: RunContext, work: () => Promise<T>): Promise<T> {
  const { entry, options } = run;
  const requestStop = (signal?: NodeJS.Signals) => {
    if (entry.stopping) return;
    entry.stopping = true;
    entry.signal = signal;
    run.log(`Interrupted: training of ${run.runId} stops after the current batch; run the same cell or command again to resume.`);
  };
  const onAbort = () => requestStop();
  for (const signal of STOP_SIGNALS) process.on(signal, requestStop);
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) requestStop();
  try {
    return await work();
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, requestStop);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Lets signal handlers run (they do only when the loop yields), then throws if one asked to stop before `epoch` ends. */
async function checkStop(run: RunContext, epoch: number): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (!run.entry.stopping) return;
  throw new TrainingInterrupted(
    `Training of ${run.runId} was interrupted in epoch ${epoch + 1}/${run.config.epochs}; ${epoch} epoch(s) are saved in ` +
      `${run.runDir}: the same call resumes after epoch ${epoch}`,
    run.entry.signal,
  );
}

/** One epoch as Keras's `fit` runs it: shuffled batches (augmented by the stepper), then validation. */
async function fitEpoch(
  run: RunContext,
  model: tfl.LayersModel,
  epoch: number,
  parts: { stepper: BatchStepper; train: SplitReader; validation: LabelledImages; rng: Rng },
): Promise<{ logs: EpochLogs; steps: StepLog[] }> {
  const { config, options } = run;
  const { stepper, train, rng } = parts;
  const started = performance.now();
  const learningRate = getLearningRate(model.optimizer);
  const order = permutation(train.count, rng);
  const batches = stepper.batchesPerEpoch;
  let lossSum = 0;
  let correctSum = 0;
  const steps: StepLog[] = [];
  const progress = (phase: TrainProgress["phase"], batch: number, of: number, seen: number): TrainProgress => ({
    phase,
    epoch: epoch + 1,
    epochs: config.epochs,
    batch,
    batches: of,
    loss: lossSum / seen,
    accuracy: correctSum / seen,
    seconds: (performance.now() - started) / 1000,
  });
  for (let b = 0; b < batches; b++) {
    await checkStop(run, epoch);
    const { n, loss, accuracy } = await stepper.step(model, order, b, rng);
    lossSum += loss * n;
    correctSum += accuracy * n;
    steps.push({ epoch: epoch + 1, step: b + 1, size: n, loss, correct: Math.round(accuracy * n) });
    options.onProgress?.(progress("train", b + 1, batches, b * config.batchSize + n));
  }
  const validation = await evaluateSplit(model, parts.validation, {
    batchSize: Math.max(config.batchSize, 256),
    limit: config.validationLimit,
    loss: configLoss(config),
    onBatch: (batch, of) => options.onProgress?.(progress("validate", batch, of, train.count)),
  });
  const logs: EpochLogs = {
    loss: lossSum / train.count,
    accuracy: correctSum / train.count,
    val_loss: validation.loss,
    val_accuracy: validation.accuracy,
    lr: learningRate,
    epoch_seconds: (performance.now() - started) / 1000,
  };
  return { logs, steps };
}

/** The fit: epochs from the restored state on, a checkpoint after each, then the run's ending. */
async function trainFromCheckpoint(run: RunContext, home: OpenRun): Promise<RunResult> {
  const { config, options, wantModel, given } = run;
  options.onProgress?.({ phase: "start", epoch: 0, epochs: config.epochs, batch: 0, batches: 0, loss: NaN, accuracy: NaN, seconds: 0 });
  const { train, validation, validationCount } = runSplits(config, options.data);
  const model = modelForRun(config, given);
  let keepModel = given !== undefined;
  try {
    const stepper = new BatchStepper(train.split, train.count, config);
    const state = await resumeOrStart(run, home, model, stepper);
    const callbacks = await beginCallbacks(run, model, state, { samples: train.count, steps: stepper.batchesPerEpoch });
    model.stopTraining = state.stopTraining;
    await whileStoppable(run, async () => {
      for (let epoch = state.startEpoch; epoch < config.epochs && !model.stopTraining; epoch++) {
        await checkStop(run, epoch);
        for (const cb of callbacks) await cb.onEpochBegin(epoch);
        const { logs, steps } = await fitEpoch(run, model, epoch, { stepper, train, validation, rng: state.rng });
        for (const cb of callbacks) await cb.onEpochEnd(epoch, { ...logs });
        state.history.push(logs);
        state.steps = state.steps.concat(steps);
        const callbackStates: CheckpointState["callbacks"] = {};
        for (const cb of callbacks) if (isStatefulCallback(cb)) callbackStates[cb.stateKey] = cb.getState();
        await home.checkpoint(
          model,
          {
            epochsCompleted: epoch + 1,
            learningRate: getLearningRate(model.optimizer),
            rngState: state.rng.state(),
            stopTraining: model.stopTraining,
            history: state.history,
            callbacks: callbackStates,
            backends: state.backends,
            machines: state.machines,
          },
          state.steps,
        );
        options.onEpoch?.({ epoch: epoch + 1, epochs: config.epochs, logs, runDir: run.runDir });
      }
    });
    for (const cb of callbacks) await cb.onTrainEnd();
    const metrics = await home.finish(model, { ...state, counts: { train: train.count, validation: validationCount } });
    keepModel = wantModel;
    return {
      runId: run.runId,
      runDir: run.runDir,
      config,
      history: state.history,
      metrics,
      status: state.startEpoch > 0 ? "resumed" : "trained",
      resumedFromEpoch: state.startEpoch,
      model: keepModel ? model : undefined,
    };
  } finally {
    if (!keepModel) {
      model.optimizer?.dispose();
      model.dispose();
    }
  }
}
