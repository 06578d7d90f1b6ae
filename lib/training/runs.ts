import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUN_LOCK_FILE } from "../shared/run_lock";
import { REPORT_AUGMENTATION, resolveAugmentationOptions, type AugmentationOptions } from "./augment";
import { REPORT_REDUCE_LR, type EarlyStoppingArgs, type EpochLogs, type ReduceLROnPlateauArgs } from "./callbacks";
import { invalidParameterError, MnistLabError } from "../shared/errors";
import { REPORT_CNN_DEFAULTS, type ReportCnnOptions } from "../model/model";
import { LOSSES, type LossName } from "../model/loss";
import { OPTIMIZERS, type OptimizerName } from "./optimizers";
import type { MachineInfo, RunMachine } from "../shared/machine";
import type { RngState } from "../shared/random";

/** Everything that decides a training run's result; its hash names the run directory. */
export interface TrainConfig {
  optimizer: OptimizerName;
  /** SGD only: Keras's `momentum` and `nesterov` (absent for the report's optimizers). */
  momentum?: number;
  nesterov?: boolean;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Keras-style random rotation/zoom/shift of every training batch. */
  augment: boolean;
  augmentation: Required<AugmentationOptions>;
  /** Seeds the weights, the shuffles, the augmentation and the dropout masks. */
  seed: number;
  /** Train on the first N training images only (null: all). */
  trainLimit: number | null;
  /** 'test': validate on the test set as the report does; 'split': on a stratified held-out part of train. */
  validation: "test" | "split";
  /** Share of train held out when validation is 'split'. */
  validationFraction: number;
  /** Validate on the first N validation images only (null: all). */
  validationLimit: number | null;
  /** The report's CNN with these knobs, or null for a model built elsewhere (see `architecture`). */
  model: Required<Omit<ReportCnnOptions, "seed">> | null;
  /** A model built in a cell (trainModel): the SHA-256 of its topology with layer names left out, and its size. */
  architecture?: { sha256: string; parameters: number };
  /**
   * The cross-entropy: `from-logits` as Keras 2.3.1 on TensorFlow computed it for a softmax output, or `clipped`
   * (tfjs's). Absent in runs made before it was a choice: those used `clipped`.
   */
  loss?: LossName;
  /** Steps trained before the logged epochs and not logged (epoch 0 of the per-step history): a re-run cell's head start. */
  headStartSteps?: number;
  /**
   * Keras's `mixed_bfloat16` policy for the convolutions (setConvPrecision): bf16 inputs and weights, f32 accumulation
   * and outputs, f32 weights and optimizer state; on CPUs with AVX512_BF16 or AMX. Absent: float32, the report's.
   */
  precision?: Precision;
  /** A finished run, in the same runs directory, whose final weights this run starts from (optimizer state fresh). */
  startFrom?: string;
  /** SHA-256 of the training and validation data when it is not the verified MNIST (absent for MNIST). */
  dataSha256?: string;
  /**
   * The learning-rate schedule. `as-run`: what the report's Keras did with `ReduceLROnPlateau(monitor='val_acc')`
   * — it found no `val_acc` in logs that say `val_accuracy`, warned, and kept the rate constant. `as-intended`:
   * the callback monitors `val_accuracy` and halves the rate after 3 epochs without gain, down to 1e-5.
   */
  schedule: Schedule;
  /** ReduceLROnPlateau settings (its monitor follows `schedule`); null turns it off. */
  reduceLr: Required<Omit<ReduceLROnPlateauArgs, "log" | "verbose">> | null;
  /** EarlyStopping settings; null (the report's choice) turns it off. */
  earlyStopping: Omit<EarlyStoppingArgs, "log" | "verbose"> | null;
}

export type Schedule = "as-run" | "as-intended";
export const SCHEDULES: readonly Schedule[] = ["as-run", "as-intended"];

/** The metric ReduceLROnPlateau watches under each schedule: the report's spelling, or the one its logs had. */
const SCHEDULE_MONITOR: Record<Schedule, string> = { "as-run": "val_acc", "as-intended": "val_accuracy" };

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null ? Partial<NonNullable<T[K]>> | null : T[K] };
export type TrainConfigInput = DeepPartial<TrainConfig> & { optimizer: OptimizerName };

/** The report's training as it ran: 40 epochs, batch 86, lr 0.001, Keras 2.3's augmentation, a schedule that never fired. */
export const REPORT_TRAIN_DEFAULTS: Omit<TrainConfig, "optimizer"> = {
  epochs: 40,
  batchSize: 86,
  learningRate: 0.001,
  augment: true,
  augmentation: { ...REPORT_AUGMENTATION },
  seed: 42,
  trainLimit: null,
  validation: "test",
  validationFraction: 0.1,
  validationLimit: null,
  model: { ...REPORT_CNN_DEFAULTS },
  loss: "from-logits",
  schedule: "as-run",
  reduceLr: (({ verbose: _verbose, ...rest }) => rest)(REPORT_REDUCE_LR),
  earlyStopping: null,
};

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw invalidParameterError(name, "an integer > 0", value);
  return value;
}

/** Number formats a run may compute in besides float32 (the report's, and a config's when it names none). */
export const PRECISIONS = ["mixed_bfloat16"] as const;
export type Precision = (typeof PRECISIONS)[number];

function precisionOption(value: unknown): Precision {
  if (!PRECISIONS.includes(value as Precision))
    throw invalidParameterError(
      "precision",
      `${PRECISIONS.map((p) => `"${p}"`).join(" or ")} (float32 is the default: leave it out)`,
      value,
    );
  return value as Precision;
}

/** A run id as runIdFor makes it: a folder name, never a path. */
function runIdOption(name: string, value: unknown): string {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9.-]*-[0-9a-f]{8}$/.test(value))
    throw invalidParameterError(name, "a run id such as rmsprop-e10-b86-aug-asrun-s1-1a2b3c4d", value);
  return value;
}

function optionalLimit(name: string, value: unknown): number | null {
  return value === null || value === undefined ? null : positiveInteger(name, value);
}

/** Fills defaults and checks every field; throws `Expected … but found …` on the first bad one. */
export function resolveTrainConfig(input: TrainConfigInput): TrainConfig {
  const d = REPORT_TRAIN_DEFAULTS;
  if (!OPTIMIZERS.includes(input.optimizer))
    throw invalidParameterError("optimizer", OPTIMIZERS.map((o) => `"${o}"`).join(", "), input.optimizer);
  if (input.optimizer !== "sgd" && (input.momentum !== undefined || input.nesterov !== undefined)) {
    throw invalidParameterError("momentum", `no momentum for ${input.optimizer} (only sgd takes one)`, input.momentum ?? input.nesterov);
  }
  const momentum = input.optimizer === "sgd" ? (input.momentum ?? 0) : undefined;
  if (momentum !== undefined && !(momentum >= 0 && momentum < 1)) throw invalidParameterError("momentum", "a number in [0, 1)", momentum);
  const learningRate = input.learningRate ?? d.learningRate;
  if (typeof learningRate !== "number" || !(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw invalidParameterError("learningRate", "a finite number > 0", learningRate);
  }
  const seed = input.seed ?? d.seed;
  // The run's Rng takes 32 bits: a larger seed would fold onto a small one (2^32 shuffles like 0).
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw invalidParameterError("seed", "an integer in [0, 2^32)", seed);
  const validation = input.validation ?? d.validation;
  if (validation !== "test" && validation !== "split") throw invalidParameterError("validation", '"test" or "split"', validation);
  const validationFraction = input.validationFraction ?? d.validationFraction;
  if (!(validationFraction > 0 && validationFraction < 1))
    throw invalidParameterError("validationFraction", "a number in (0, 1)", validationFraction);
  const model = input.model === null ? null : ({ ...d.model!, ...(input.model ?? {}) } as NonNullable<TrainConfig["model"]>);
  if (model) {
    positiveInteger("model.filters", model.filters);
    positiveInteger("model.denseUnits", model.denseUnits);
  } else if (!input.architecture?.sha256) {
    throw invalidParameterError("model", "the report's CNN knobs, or an architecture for a model built elsewhere", input.model);
  }
  const loss = input.loss ?? d.loss;
  if (!LOSSES.includes(loss!)) throw invalidParameterError("loss", LOSSES.map((x) => `"${x}"`).join(" or "), loss);
  const schedule = input.schedule ?? d.schedule;
  if (!SCHEDULES.includes(schedule)) throw invalidParameterError("schedule", SCHEDULES.map((x) => `"${x}"`).join(" or "), schedule);
  const reduceLr =
    input.reduceLr === null
      ? null
      : ({ ...d.reduceLr!, monitor: SCHEDULE_MONITOR[schedule], ...(input.reduceLr ?? {}) } as TrainConfig["reduceLr"]);
  const earlyStopping = input.earlyStopping ? ({ ...input.earlyStopping } as TrainConfig["earlyStopping"]) : null;
  const config: TrainConfig = {
    optimizer: input.optimizer,
    momentum,
    nesterov: input.optimizer === "sgd" ? (input.nesterov ?? false) : undefined,
    epochs: positiveInteger("epochs", input.epochs ?? d.epochs),
    batchSize: positiveInteger("batchSize", input.batchSize ?? d.batchSize),
    learningRate,
    augment: input.augment ?? d.augment,
    augmentation: resolveAugmentationOptions({ ...d.augmentation, ...(input.augmentation ?? {}) }),
    seed,
    trainLimit: optionalLimit("trainLimit", input.trainLimit ?? d.trainLimit),
    validation,
    validationFraction,
    validationLimit: optionalLimit("validationLimit", input.validationLimit ?? d.validationLimit),
    model,
    architecture: model ? undefined : (input.architecture as TrainConfig["architecture"]),
    loss,
    headStartSteps: input.headStartSteps === undefined ? undefined : positiveInteger("headStartSteps", input.headStartSteps),
    precision: input.precision === undefined ? undefined : precisionOption(input.precision),
    startFrom: input.startFrom === undefined ? undefined : runIdOption("startFrom", input.startFrom),
    dataSha256: input.dataSha256,
    schedule,
    reduceLr,
    earlyStopping,
  };
  // Optional fields stay absent rather than undefined, so a config equals its JSON round trip.
  for (const key of Object.keys(config) as Array<keyof TrainConfig>) if (config[key] === undefined) delete config[key];
  return config;
}

/** JSON with sorted keys, so equal configs hash equally whatever order their fields were written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * A readable id for a config, e.g. `adam-e40-b86-aug-asrun-s42-3f9a1c2b` (a model built in a cell adds
 * `model<parameters>-` in front); the hash covers every field, so runs
 * that differ in anything (limits, model knobs, schedule) never share a directory.
 */
export function runIdFor(config: TrainConfig): string {
  const hash = createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 8);
  const limit = config.trainLimit === null ? "" : `-n${config.trainLimit}`;
  const schedule = config.schedule.replace("-", "");
  const architecture = config.architecture ? `model${config.architecture.parameters}-` : "";
  const augment = config.augment ? "aug" : "noaug";
  return `${architecture}${config.optimizer}-e${config.epochs}-b${config.batchSize}-${augment}${limit}-${schedule}-s${config.seed}-${hash}`;
}

/** What metrics.json holds: written last, so its presence marks a finished run. */
export interface RunMetrics {
  runId: string;
  optimizer: OptimizerName;
  epochs: number;
  epochsCompleted: number;
  stoppedEarly: boolean;
  /** Last epoch's validation accuracy and loss. */
  valAccuracy: number;
  valLoss: number;
  trainAccuracy: number;
  trainLoss: number;
  bestValAccuracy: number;
  /** 1-based epoch of bestValAccuracy. */
  bestEpoch: number;
  finalLearningRate: number;
  /** Mean wall time of the epochs (training + validation). */
  secondsPerEpoch: number;
  totalSeconds: number;
  /** Backends the epochs ran on, in order (one entry unless resumed elsewhere). */
  backends: string[];
  trainCount: number;
  validationCount: number;
  /** The CPU the last epoch ran on (a seed's exact result differs per ISA). */
  machine: MachineInfo;
  /** Every CPU the run ran on, with the first epoch each ran (more than one when resumed elsewhere). */
  machines?: RunMachine[];
  finishedAt: string;
}

/** State saved with every epoch's checkpoint: enough to continue as if never stopped. */
export interface CheckpointState {
  epochsCompleted: number;
  learningRate: number;
  rngState: RngState;
  stopTraining: boolean;
  history: EpochLogs[];
  callbacks: Record<string, Record<string, unknown>>;
  backends: string[];
  /** Absent in checkpoints written before machines were recorded. */
  machines?: RunMachine[];
}

/** The loss a stored config trained with: runs made before the choice existed used the clipped one. */
export function configLoss(config: Pick<TrainConfig, "loss">): LossName {
  return config.loss ?? "clipped";
}

/** Files of a run directory. */
export const RUN_FILES = {
  config: "config.json",
  history: "history.csv",
  steps: "steps.csv",
  metrics: "metrics.json",
  model: "model",
  best: "best",
  checkpoints: "checkpoints",
  lock: RUN_LOCK_FILE,
} as const;

const CHECKPOINT_PATTERN = /^epoch-(\d{4,})$/;

export function checkpointDirName(epochsCompleted: number): string {
  return `epoch-${String(epochsCompleted).padStart(4, "0")}`;
}

/** A run's complete checkpoints (directories appear only complete, by rename), newest first. */
export function listCheckpoints(runDir: string): Array<{ dir: string; epochsCompleted: number }> {
  const root = path.join(runDir, RUN_FILES.checkpoints);
  if (!fs.existsSync(root)) return [];
  const found: Array<{ dir: string; epochsCompleted: number }> = [];
  for (const name of fs.readdirSync(root)) {
    const m = CHECKPOINT_PATTERN.exec(name);
    if (m) found.push({ dir: path.join(root, name), epochsCompleted: Number(m[1]) });
  }
  return found.sort((a, b) => b.epochsCompleted - a.epochsCompleted);
}

/** Parses a history.csv written by CsvLogger back into rows (numbers; 'epoch' 0-based as Keras writes it). */
export function parseHistoryCsv(text: string): Array<EpochLogs & { epoch: number }> {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const header = lines[0].split(",");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    const row: Record<string, number> = {};
    header.forEach((key, i) => {
      if (cells[i] !== undefined && cells[i] !== "") row[key] = Number(cells[i]);
    });
    return row as EpochLogs & { epoch: number };
  });
}

/** A run as stored on disk. */
export interface StoredRun {
  runId: string;
  runDir: string;
  config: TrainConfig;
  /** One entry per epoch, Keras names (loss, accuracy, val_loss, val_accuracy, lr, epoch_seconds). */
  history: EpochLogs[];
  /** Present once the run finished. */
  metrics?: RunMetrics;
}

/** Reads a run directory: config, history and (if finished) metrics. Does not load the model (see loadModelDir). */
export function loadRun(runDir: string): StoredRun {
  const configFile = path.join(runDir, RUN_FILES.config);
  if (!fs.existsSync(configFile)) throw new MnistLabError(`Expected a run directory with ${RUN_FILES.config} at ${runDir} but found none`);
  const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as TrainConfig;
  const historyFile = path.join(runDir, RUN_FILES.history);
  const history = fs.existsSync(historyFile)
    ? parseHistoryCsv(fs.readFileSync(historyFile, "utf8")).map(({ epoch: _epoch, ...rest }) => rest as EpochLogs)
    : [];
  const metricsFile = path.join(runDir, RUN_FILES.metrics);
  const metrics = fs.existsSync(metricsFile) ? (JSON.parse(fs.readFileSync(metricsFile, "utf8")) as RunMetrics) : undefined;
  return { runId: path.basename(runDir), runDir, config, history, metrics };
}

/** Runs under `runsDir` (finished ones carry metrics), sorted by id. */
export function listRuns(runsDir: string): StoredRun[] {
  if (!fs.existsSync(runsDir)) return [];
  return fs
    .readdirSync(runsDir)
    .sort()
    .map((name) => path.join(runsDir, name))
    .filter((dir) => fs.existsSync(path.join(dir, RUN_FILES.config)))
    .map(loadRun);
}
