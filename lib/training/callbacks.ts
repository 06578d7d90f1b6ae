import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { writeFileAtomic } from "../shared/atomic_file";
import { invalidParameterError, MnistLabError } from "../shared/errors";
import { saveModelDir } from "../model/model_io";

/** Per-epoch logs as Keras names them: loss, accuracy, val_loss, val_accuracy, lr. */
export type EpochLogs = Record<string, number>;
type AnyLogs = Record<string, number | tf.Scalar> | undefined;

/** A callback whose progress survives a resume: its state goes into every checkpoint. */
export interface StatefulCallback {
  /** Key of the state in the checkpoint; unique per run. */
  readonly stateKey: string;
  getState(): Record<string, unknown>;
  setState(state: Record<string, unknown>): void;
}

export function isStatefulCallback(value: unknown): value is StatefulCallback {
  const v = value as Partial<StatefulCallback> | null;
  return !!v && typeof v.stateKey === "string" && typeof v.getState === "function" && typeof v.setState === "function";
}

/** Where a line of output goes; the default writes to stdout. */
export type LogSink = (line: string) => void;
const stdoutSink: LogSink = (line) => process.stdout.write(`${line}\n`);

interface LearningRateHolder {
  learningRate: number;
}

function learningRateHolder(optimizer: tf.Optimizer): LearningRateHolder {
  const holder = optimizer as unknown as Partial<LearningRateHolder>;
  if (typeof holder.learningRate !== "number") {
    throw new MnistLabError(`Expected an optimizer with a numeric learning rate but found ${optimizer.getClassName()} without one`);
  }
  return holder as LearningRateHolder;
}

/** The learning rate the optimizer will apply at its next step. */
export function getLearningRate(optimizer: tf.Optimizer): number {
  return learningRateHolder(optimizer).learningRate;
}

/**
 * Changes the learning rate of a tfjs optimizer in place. tfjs keeps `learningRate` protected but
 * RMSprop, Adam, SGD and the others read it afresh in every `applyGradients`, so setting the field is
 * what Keras's `K.set_value(optimizer.lr, …)` does (test/callbacks.test.ts proves the step changes).
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!Number.isFinite(learningRate) || learningRate <= 0)
    throw invalidParameterError("learning rate", "a finite number > 0", learningRate);
  learningRateHolder(optimizer).learningRate = learningRate;
}

function numericLogs(logs: AnyLogs): EpochLogs {
  const out: EpochLogs = {};
  for (const [k, v] of Object.entries(logs ?? {})) out[k] = typeof v === "number" ? v : v.dataSync()[0];
  return out;
}

/**
 * The monitored value from `logs`, looked up by its exact name as Keras 2.3 does (`logs.get(monitor)`);
 * undefined when absent. So the report's `monitor='val_acc'` finds nothing in logs that say `val_accuracy`.
 */
export function monitorValue(logs: EpochLogs, monitor: string): number | undefined {
  return logs[monitor];
}

/** Log keys in the order Keras 2.3's fit_generator hands them to callbacks: validation first, then training. */
function kerasLogKeys(logs: EpochLogs): string[] {
  const keys = Object.keys(logs).filter((k) => k !== "epoch_seconds");
  return [
    ...keys.filter((k) => k.startsWith("val_")),
    ...keys.filter((k) => !k.startsWith("val_") && k !== "lr"),
    ...keys.filter((k) => k === "lr"),
  ];
}

export type MonitorMode = "auto" | "min" | "max";

/** Keras's rule for mode 'auto': a monitor with "acc" in its name is maximised, anything else minimised. */
export function resolveMode(mode: MonitorMode, monitor: string): "min" | "max" {
  if (mode !== "auto" && mode !== "min" && mode !== "max") throw invalidParameterError("mode", '"auto", "min" or "max"', mode);
  if (mode !== "auto") return mode;
  return monitor.includes("acc") ? "max" : "min";
}

function checkNumber(name: string, value: number, ok: (v: number) => boolean, expected: string): number {
  if (typeof value !== "number" || !ok(value)) throw invalidParameterError(name, expected, value);
  return value;
}

function getOptimizer(model: tfl.LayersModel | undefined, who: string): tf.Optimizer {
  if (!model || !model.optimizer) throw new MnistLabError(`Expected ${who} to be attached to a compiled model but found none`);
  return model.optimizer;
}

/** Mirrors Keras: infinities become null in JSON, so state must round-trip them. */
function encodeNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}
function decodeNumber(x: unknown): number {
  return typeof x === "string" ? Number(x) : (x as number);
}

export interface ReduceLROnPlateauArgs {
  /** Default 'val_loss' as Keras; the report monitors 'val_accuracy' (Keras 2.2 called it 'val_acc'). */
  monitor?: string;
  /** New rate = rate × factor (< 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement before reducing. Default 10. */
  patience?: number;
  /** 1 prints Keras's message on each reduction. Default 0. */
  verbose?: number;
  mode?: MonitorMode;
  /** Smallest change that counts as an improvement. Default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** Lower bound of the rate. Default 0. */
  minLr?: number;
  log?: LogSink;
}

/**
 * The report's `ReduceLROnPlateau(monitor='val_acc', patience=3, verbose=1, factor=0.5, min_lr=0.00001)`, as
 * written. Its Keras logged `val_accuracy`, so this callback never fired there (the `as-run` schedule);
 * monitoring `val_accuracy` is what the report meant (`as-intended`).
 */
export const REPORT_REDUCE_LR: Required<Omit<ReduceLROnPlateauArgs, "log">> = {
  monitor: "val_acc",
  factor: 0.5,
  patience: 3,
  verbose: 1,
  mode: "auto",
  minDelta: 1e-4,
  cooldown: 0,
  minLr: 1e-5,
};

/** Log sinks that have shown ReduceLROnPlateau's missing-metric warning. */
const warnedSinks = new WeakSet<LogSink>();

/**
 * Keras's `ReduceLROnPlateau`: when the monitored metric has not improved by `minDelta` for `patience`
 * epochs, multiply the optimizer's learning rate by `factor` (not below `minLr`), then wait `cooldown` epochs.
 * Prints Keras 2.3's `Epoch 00007: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.` when
 * `verbose` > 0, and, once, Keras's warning when the monitored metric is not in the logs.
 */
export class ReduceLROnPlateau extends tfl.Callback implements StatefulCallback {
  readonly stateKey = "reduceLROnPlateau";
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: "min" | "max";
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private readonly log: LogSink;
  wait = 0;
  cooldownCounter = 0;
  best: number;
  /** Python shows a warning once per place and text: so does this. */
  private warned = false;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    this.monitor = args.monitor ?? "val_loss";
    this.factor = checkNumber("ReduceLROnPlateau factor", args.factor ?? 0.1, (v) => v > 0 && v < 1, "a number in (0, 1)");
    this.patience = checkNumber("ReduceLROnPlateau patience", args.patience ?? 10, (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0");
    this.verbose = args.verbose ?? 0;
    this.mode = resolveMode(args.mode ?? "auto", this.monitor);
    this.minDelta = checkNumber("ReduceLROnPlateau minDelta", args.minDelta ?? 1e-4, (v) => v >= 0, "a number ≥ 0");
    this.cooldown = checkNumber("ReduceLROnPlateau cooldown", args.cooldown ?? 0, (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0");
    this.minLr = checkNumber("ReduceLROnPlateau minLr", args.minLr ?? 0, (v) => v >= 0, "a number ≥ 0");
    this.log = args.log ?? stdoutSink;
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  private improved(current: number): boolean {
    return this.mode === "min" ? current < this.best - this.minDelta : current > this.best + this.minDelta;
  }

  override async onTrainBegin(): Promise<void> {
    // Keras resets here; a resumed run restores its state after onTrainBegin (see trainRun).
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  override async onEpochEnd(epoch: number, logs?: AnyLogs): Promise<void> {
    const values = numericLogs(logs);
    const optimizer = getOptimizer(this.model, "ReduceLROnPlateau");
    // Keras 2.3 puts the rate into the logs before looking for the monitor.
    values.lr = Math.fround(getLearningRate(optimizer));
    const current = monitorValue(values, this.monitor);
    if (current === undefined) {
      // Python shows a warning once per place it is raised: one line per log sink (once per process on stdout).
      if (!this.warned && !warnedSinks.has(this.log)) {
        warnedSinks.add(this.log);
        this.log(
          `RuntimeWarning: Reduce LR on plateau conditioned on metric \`${this.monitor}\` which is not available. ` +
            `Available metrics are: ${kerasLogKeys(values).join(",")}`,
        );
      }
      this.warned = true;
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.improved(current)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        // Keras reads the float32 rate back as a double, so 0.001 halves to 0.0005000000237487257, and
        // compares it with float32(min_lr): a rate already at the floor is left alone.
        const oldLr = Math.fround(getLearningRate(optimizer));
        if (oldLr > Math.fround(this.minLr)) {
          const newLr = Math.max(oldLr * this.factor, this.minLr);
          setLearningRate(optimizer, newLr);
          if (this.verbose > 0)
            this.log(`Epoch ${String(epoch + 1).padStart(5, "0")}: ReduceLROnPlateau reducing learning rate to ${newLr}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }

  getState(): Record<string, unknown> {
    return { wait: this.wait, cooldownCounter: this.cooldownCounter, best: encodeNumber(this.best) };
  }

  setState(state: Record<string, unknown>): void {
    this.wait = state.wait as number;
    this.cooldownCounter = state.cooldownCounter as number;
    this.best = decodeNumber(state.best);
  }
}

export interface EarlyStoppingArgs {
  /** Default 'val_loss' as Keras. */
  monitor?: string;
  /** Default 0. */
  minDelta?: number;
  /** Default 0. */
  patience?: number;
  verbose?: number;
  mode?: MonitorMode;
  /** Training stops unless the monitor beats this baseline (Keras `baseline`). */
  baseline?: number;
  /** Epochs (0-based) before which nothing is counted (Keras `start_from_epoch`). */
  startFromEpoch?: number;
  log?: LogSink;
}

/**
 * Keras's `EarlyStopping` (without `restore_best_weights`: use {@link BestModelCheckpoint} to keep the best
 * model on disk): sets `model.stopTraining` after `patience` epochs without an improvement of `minDelta`.
 */
export class EarlyStopping extends tfl.Callback implements StatefulCallback {
  readonly stateKey = "earlyStopping";
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: "min" | "max";
  readonly baseline: number | undefined;
  readonly startFromEpoch: number;
  private readonly log: LogSink;
  wait = 0;
  stoppedEpoch = 0;
  best: number;
  bestEpoch = 0;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? "val_loss";
    this.minDelta = Math.abs(checkNumber("EarlyStopping minDelta", args.minDelta ?? 0, Number.isFinite, "a finite number"));
    this.patience = checkNumber("EarlyStopping patience", args.patience ?? 0, (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0");
    this.verbose = args.verbose ?? 0;
    this.mode = resolveMode(args.mode ?? "auto", this.monitor);
    this.baseline = args.baseline;
    this.startFromEpoch = args.startFromEpoch ?? 0;
    this.log = args.log ?? stdoutSink;
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  private isImprovement(value: number, reference: number): boolean {
    return this.mode === "min" ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  override async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.mode === "min" ? Infinity : -Infinity;
    this.bestEpoch = 0;
  }

  override async onEpochEnd(epoch: number, logs?: AnyLogs): Promise<void> {
    const current = monitorValue(numericLogs(logs), this.monitor);
    if (current === undefined) {
      this.log(
        `WARNING: Early stopping conditioned on metric \`${this.monitor}\` which is not available. ` +
          `Available metrics are: ${Object.keys(numericLogs(logs)).join(",")}`,
      );
      return;
    }
    if (epoch < this.startFromEpoch) return;
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.baseline === undefined || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override async onTrainEnd(): Promise<void> {
    if (this.stoppedEpoch > 0 && this.verbose > 0) this.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
  }

  getState(): Record<string, unknown> {
    return { wait: this.wait, stoppedEpoch: this.stoppedEpoch, best: encodeNumber(this.best), bestEpoch: this.bestEpoch };
  }

  setState(state: Record<string, unknown>): void {
    this.wait = state.wait as number;
    this.stoppedEpoch = state.stoppedEpoch as number;
    this.best = decodeNumber(state.best);
    this.bestEpoch = state.bestEpoch as number;
  }
}

export interface BestModelCheckpointArgs {
  /** Directory that receives model.json + weights.bin of the best epoch so far. */
  dir: string;
  /** Default 'val_loss' as Keras. */
  monitor?: string;
  mode?: MonitorMode;
  verbose?: number;
  log?: LogSink;
}

/** Keras's `ModelCheckpoint(save_best_only=True)`: saves the model whenever the monitored metric improves. */
export class BestModelCheckpoint extends tfl.Callback implements StatefulCallback {
  readonly stateKey = "bestModelCheckpoint";
  readonly dir: string;
  readonly monitor: string;
  readonly mode: "min" | "max";
  readonly verbose: number;
  private readonly log: LogSink;
  best: number;
  bestEpoch = -1;

  constructor(args: BestModelCheckpointArgs) {
    super();
    if (!args || typeof args.dir !== "string" || args.dir === "")
      throw invalidParameterError("BestModelCheckpoint dir", "a directory path", args?.dir);
    this.dir = args.dir;
    this.monitor = args.monitor ?? "val_loss";
    this.mode = resolveMode(args.mode ?? "auto", this.monitor);
    this.verbose = args.verbose ?? 0;
    this.log = args.log ?? stdoutSink;
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  override async onEpochEnd(epoch: number, logs?: AnyLogs): Promise<void> {
    const current = monitorValue(numericLogs(logs), this.monitor);
    if (current === undefined) {
      this.log(`WARNING: Can save best model only with ${this.monitor} available, skipping.`);
      return;
    }
    const better = this.mode === "min" ? current < this.best : current > this.best;
    if (better) {
      if (this.verbose > 0) {
        this.log(
          `Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best.toFixed(5)} to ${current.toFixed(5)}, saving model to ${this.dir}`,
        );
      }
      this.best = current;
      this.bestEpoch = epoch;
      await saveModelDir(this.model, this.dir);
    } else if (this.verbose > 0) {
      this.log(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${this.best.toFixed(5)}`);
    }
  }

  getState(): Record<string, unknown> {
    return { best: encodeNumber(this.best), bestEpoch: this.bestEpoch };
  }

  setState(state: Record<string, unknown>): void {
    this.best = decodeNumber(state.best);
    this.bestEpoch = state.bestEpoch as number;
  }
}

/** Renders epoch rows as Keras's `CSVLogger` does: header `epoch` + sorted log keys, 0-based epochs. */
export function historyToCsv(rows: ReadonlyArray<EpochLogs & { epoch: number }>, separator = ","): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== "epoch")))].sort();
  const lines = [["epoch", ...keys].join(separator)];
  for (const row of rows) lines.push([row.epoch, ...keys.map((k) => (row[k] === undefined ? "" : String(row[k])))].join(separator));
  return `${lines.join("\n")}\n`;
}

/**
 * Keras's `CSVLogger`: one row per epoch. The whole file is rewritten atomically each epoch from the rows
 * kept in its state, so a killed and resumed run ends with exactly one row per epoch.
 */
export class CsvLogger extends tfl.Callback implements StatefulCallback {
  readonly stateKey = "csvLogger";
  readonly file: string;
  readonly separator: string;
  rows: Array<EpochLogs & { epoch: number }> = [];

  constructor(args: { file: string; separator?: string }) {
    super();
    if (!args || typeof args.file !== "string" || args.file === "")
      throw invalidParameterError("CsvLogger file", "a file path", args?.file);
    this.file = path.resolve(args.file);
    this.separator = args.separator ?? ",";
  }

  override async onEpochEnd(epoch: number, logs?: AnyLogs): Promise<void> {
    this.rows = this.rows.filter((r) => r.epoch < epoch);
    this.rows.push({ epoch, ...numericLogs(logs) });
    await writeFileAtomic(this.file, historyToCsv(this.rows, this.separator));
  }

  getState(): Record<string, unknown> {
    return { rows: this.rows };
  }

  setState(state: Record<string, unknown>): void {
    this.rows = (state.rows as Array<EpochLogs & { epoch: number }>) ?? [];
  }
}

/** Keras's number format in progress logs: 4 decimals, or 4-digit scientific below 1e-3. */
export function formatLogValue(value: number): string {
  return Math.abs(value) > 1e-3 ? value.toFixed(4) : value.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
}

/**
 * The line Keras's `verbose=2` prints after an epoch: `- 173s - loss: 0.3680 - accuracy: 0.8847 - val_loss: …`.
 * The learning rate appears (`- lr: 0.001`) only when `logs` has one; the report's lines have none.
 */
export function formatEpochLine(seconds: number, logs: EpochLogs): string {
  const order = ["loss", "accuracy", "acc", "val_loss", "val_accuracy", "val_acc"];
  const keys = [
    ...order.filter((k) => k in logs),
    ...Object.keys(logs)
      .filter((k) => !order.includes(k) && k !== "lr")
      .sort(),
  ];
  const parts = [`- ${Math.round(seconds)}s`, ...keys.map((k) => `${k}: ${formatLogValue(logs[k])}`)];
  // The learning rate is shown as set (0.001, 0.0005), as in the report's logs, not as 1.0000e-03.
  if (logs.lr !== undefined) parts.push(`lr: ${Number(logs.lr.toPrecision(6))}`);
  return parts.join(" - ");
}

/** Keras `fit(verbose=2)` output: `Epoch 1/40` when an epoch starts, the metrics line when it ends. */
export class EpochLogger extends tfl.Callback {
  private readonly log: LogSink;
  private readonly epochs: number | undefined;
  private readonly showLearningRate: boolean;
  private started = 0;

  /** @param args.showLearningRate add `- lr: …` to each line (Keras 2.3 prints none). */
  constructor(args: { log?: LogSink; epochs?: number; showLearningRate?: boolean } = {}) {
    super();
    this.log = args.log ?? stdoutSink;
    this.epochs = args.epochs;
    this.showLearningRate = args.showLearningRate ?? false;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.started = performance.now();
    this.log(`Epoch ${epoch + 1}/${this.epochs ?? this.params?.epochs ?? "?"}`);
  }

  override async onEpochEnd(epoch: number, logs?: AnyLogs): Promise<void> {
    const values = numericLogs(logs);
    const seconds = values.epoch_seconds ?? (performance.now() - this.started) / 1000;
    delete values.epoch_seconds;
    if (!this.showLearningRate) delete values.lr;
    this.log(formatEpochLine(seconds, values));
  }
}
