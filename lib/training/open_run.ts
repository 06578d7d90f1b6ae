import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { removeStaleTemps, writeFileAtomic } from "../shared/atomic_file";
import { DamagedFileError, readCheckedDir, writeCheckedDir } from "../shared/checked_dir";
import { MnistLabError } from "../shared/errors";
import { machineInfo, type RunMachine } from "../shared/machine";
import { lockRun } from "../shared/run_lock";
import {
  loadModelDir,
  loadWeightsIntoModel,
  modelToFiles,
  optimizerStateToFiles,
  restoreOptimizerState,
  saveModelDir,
} from "../model/model_io";
import type { EpochLogs, LogSink } from "./callbacks";
import {
  RUN_FILES,
  checkpointDirName,
  listCheckpoints,
  loadRun,
  type CheckpointState,
  type RunMetrics,
  type StoredRun,
  type TrainConfig,
} from "./runs";
import { formatStepsCsv, parseStepsCsv, type StepLog } from "./steps";

// A run's one home on disk. Opening it takes its lock (one writer), checks or writes its config, and clears what
// a killed writer left; then it restores and writes checkpoints, and finishing writes the model, the per-step log
// and the metrics. Reading finished runs (loadRun, listRuns) needs no lock and lives in runs.ts.

/** Checkpoints kept on disk: the newest may be damaged (a disk error, a stray write), so one more stays. */
const CHECKPOINTS_KEPT = 2;

/** What a checkpoint brings back besides the weights and optimizer state it loads into the model. */
export type RestoredState = CheckpointState & { steps: StepLog[] };

/** The figures that go into metrics.json once a run ends. */
export interface RunEnding {
  history: EpochLogs[];
  steps: readonly StepLog[];
  backends: string[];
  machines: RunMachine[];
  counts: { train: number; validation: number };
}

/** A run directory this process holds the lock of, until close(). */
export class OpenRun {
  private constructor(
    readonly config: TrainConfig,
    readonly runId: string,
    readonly runDir: string,
    private readonly release: () => void,
  ) {}

  /**
   * Locks `runDir`, wipes it first when `retrain`, removes a killed writer's temp files, and writes the config or
   * checks that the stored one is this run's. Throws RunBusyError when another live process holds it.
   */
  static async open(config: TrainConfig, runId: string, runDir: string, options: { retrain?: boolean } = {}): Promise<OpenRun> {
    const release = lockRun(runDir);
    try {
      if (options.retrain) {
        for (const name of fs.readdirSync(runDir))
          if (name !== RUN_FILES.lock) fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
      }
      await removeStaleTemps(runDir);
      await removeStaleTemps(path.join(runDir, RUN_FILES.checkpoints));
      const configFile = path.join(runDir, RUN_FILES.config);
      const wanted = JSON.stringify(config, null, 2);
      if (!fs.existsSync(configFile)) await writeFileAtomic(configFile, wanted);
      else if (fs.readFileSync(configFile, "utf8") !== wanted) {
        throw new MnistLabError(`Expected ${configFile} to hold this run's config but it differs; pass retrain to start over`);
      }
      return new OpenRun(config, runId, runDir, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  close(): void {
    this.release();
  }

  /** The run as stored: a finished one carries its metrics. */
  stored(): StoredRun {
    return loadRun(this.runDir);
  }

  /** A finished run's final weights: into `into` (a caller's model) when given, else as a new model. */
  async finishedModel(into?: tfl.LayersModel): Promise<tfl.LayersModel> {
    const dir = path.join(this.runDir, RUN_FILES.model);
    if (!into) return loadModelDir(dir);
    loadWeightsIntoModel(into, dir);
    return into;
  }

  /**
   * Restores the newest intact checkpoint into `model`. A damaged one is named in the log and renamed
   * `<dir>.damaged` (kept for inspection, never read again) before the next older one is tried. Returns
   * undefined when none is intact.
   */
  async restoreNewest(model: tfl.LayersModel, log: LogSink): Promise<{ dir: string; state: RestoredState } | undefined> {
    for (const checkpoint of listCheckpoints(this.runDir)) {
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

  /** Writes the checkpoint after an epoch (weights, optimizer state, run state, steps), then drops the oldest. */
  async checkpoint(model: tfl.LayersModel, state: CheckpointState, steps: readonly StepLog[]): Promise<void> {
    const modelFiles = await modelToFiles(model);
    const optimizerFiles = await optimizerStateToFiles(model.optimizer);
    // A leftover directory of the same epoch is one that was not resumed from (damaged or newer): replace it.
    await writeCheckedDir(
      path.join(this.runDir, RUN_FILES.checkpoints, checkpointDirName(state.epochsCompleted)),
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
    for (const old of listCheckpoints(this.runDir).slice(CHECKPOINTS_KEPT)) await fs.promises.rm(old.dir, { recursive: true, force: true });
  }

  /** Ends the run: its final model, per-step log and metrics (written last: their presence means finished). */
  async finish(model: tfl.LayersModel, ending: RunEnding): Promise<RunMetrics> {
    await saveModelDir(model, path.join(this.runDir, RUN_FILES.model));
    await writeFileAtomic(path.join(this.runDir, RUN_FILES.steps), formatStepsCsv(ending.steps));
    const metrics = metricsFor(this.config, this.runId, ending);
    await writeFileAtomic(path.join(this.runDir, RUN_FILES.metrics), JSON.stringify(metrics, null, 2));
    return metrics;
  }
}

/** Restores weights, optimizer state, run state and per-step history from a checkpoint, after checking every file's checksum. */
async function readCheckpoint(dir: string, model: tfl.LayersModel): Promise<RestoredState> {
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

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function metricsFor(config: TrainConfig, runId: string, ending: RunEnding): RunMetrics {
  const { history } = ending;
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
    stoppedEarly: history.length < config.epochs,
    valAccuracy: last.val_accuracy,
    valLoss: last.val_loss,
    trainAccuracy: last.accuracy,
    trainLoss: last.loss,
    bestValAccuracy: history[bestIndex].val_accuracy,
    bestEpoch: bestIndex + 1,
    finalLearningRate: last.lr,
    secondsPerEpoch: mean(seconds),
    totalSeconds: seconds.reduce((a, b) => a + b, 0),
    backends: ending.backends,
    machines: ending.machines,
    trainCount: ending.counts.train,
    validationCount: ending.counts.validation,
    machine: machineInfo(),
    finishedAt: new Date().toISOString(),
  };
}
