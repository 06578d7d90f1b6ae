import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { MnistLabError } from "./errors";
import { loadModelDir } from "./model_io";
import type { OptimizerName } from "./model";
import { defaultRunsDir } from "./paths";
import { evaluateModel, type Evaluation, type LabelledSplit, type PredictOptions } from "./evaluate";
import { RESULT_FILES, defaultResultsDir, readRunResult, type StoredEvaluation } from "./results";
import { RUN_FILES, loadRun, resolveTrainConfig, runIdFor, type RunMetrics, type StoredRun, type TrainConfigInput } from "./runs";

/** How much a notebook run does: `smoke` for CI (seconds), `quick` for the main job (minutes), `full` as the report. */
export type Profile = "smoke" | "quick" | "full";
export const PROFILES: readonly Profile[] = ["smoke", "quick", "full"];

export interface ProfileSettings {
  epochs: number;
  /** Train on the first N images (null: all 60,000). */
  trainLimit: number | null;
  /** Validate on the first N test images (null: all 10,000). */
  validationLimit: number | null;
  description: string;
  /** What results of this size can and cannot show, said wherever they are compared with the report. */
  canShow: string;
}

export const PROFILE_SETTINGS: Record<Profile, ProfileSettings> = {
  smoke: {
    epochs: 2,
    trainLimit: 1720,
    validationLimit: 1000,
    description: "2 epochs of 20 batches: checks the pipeline in seconds",
    canShow:
      "that every step runs; not accuracy — after 40 steps BatchNorm's moving statistics (momentum 0.99) have not settled, so validation sits near chance whatever the training accuracy",
  },
  // 280 steps an epoch: enough for BatchNorm's moving statistics (momentum 0.99) to settle within the first epoch.
  quick: {
    epochs: 2,
    trainLimit: 24080,
    validationLimit: null,
    description: "2 epochs on 24,080 images: the curves and the confusion matrices in minutes",
    canShow: "the shape of the curves and which digits get confused; accuracies a few points below the report's 40 epochs",
  },
  full: {
    epochs: 40,
    trainLimit: null,
    validationLimit: null,
    description: "the report: 40 epochs on all 60,000 images",
    canShow: "the report's figures, one seed at a time; 04_reproduction sets them against several seeds",
  },
};

/** The training config of one optimizer under a profile: the report's settings with the profile's size. */
export function profileTrainConfig(profile: Profile, optimizer: OptimizerName, overrides: Partial<TrainConfigInput> = {}): TrainConfigInput {
  const settings = PROFILE_SETTINGS[profile];
  if (!settings) throw new MnistLabError(`Expected profile ${PROFILES.join(", ")} but found ${JSON.stringify(profile)}`);
  return { epochs: settings.epochs, trainLimit: settings.trainLimit, validationLimit: settings.validationLimit, ...overrides, optimizer };
}

/** The directory a config trains into (its id is a hash of the whole config). */
export function runDirFor(config: TrainConfigInput, runsDir = defaultRunsDir()): string {
  return path.join(runsDir, runIdFor(resolveTrainConfig(config)));
}

/** A finished run as the notebooks use it: from `runs/` (with its weights), or only its committed summary in `results/`. */
export type FinishedRun = StoredRun & { metrics: RunMetrics; source: "runs" | "results"; evaluation?: StoredEvaluation };

/**
 * A finished run of this config: from `runs/` when it was trained here, else its summary in `results/` (a fresh
 * clone has the full-profile runs only there); throws, saying how to make it, when there is neither.
 */
export function loadFinishedRun(config: TrainConfigInput, runsDir = defaultRunsDir(), resultsDir = defaultResultsDir()): FinishedRun {
  const dir = runDirFor(config, runsDir);
  if (fs.existsSync(path.join(dir, RUN_FILES.metrics))) {
    const run = loadRun(dir);
    return { ...run, metrics: run.metrics!, source: "runs" };
  }
  const resultDir = path.join(resultsDir, path.basename(dir));
  if (fs.existsSync(path.join(resultDir, RESULT_FILES.metrics))) {
    const r = readRunResult(resultDir);
    return { runId: r.runId, runDir: resultDir, config: r.config, history: r.history, metrics: r.metrics, source: "results", evaluation: r.evaluation };
  }
  const resolved = resolveTrainConfig(config);
  const profile = PROFILES.find((p) => {
    const settings = PROFILE_SETTINGS[p];
    return settings.epochs === resolved.epochs && settings.trainLimit === resolved.trainLimit && settings.validationLimit === resolved.validationLimit;
  });
  const how = profile
    ? `run notebooks/02_train.ipynb with profile ${profile} and seed ${resolved.seed} first, or mnist-lab report --profile ${profile} --seed ${resolved.seed}`
    : `train it first with the same settings (mnist-lab train --optimizer ${resolved.optimizer} --epochs ${resolved.epochs} --seed ${resolved.seed})`;
  throw new MnistLabError(`Expected a finished ${resolved.optimizer} run at ${dir} but found none; ${how}`);
}

/** The trained model of a finished run (the caller disposes it); a run known only from results/ has none, and says how to make it. */
export function loadRunModel(run: StoredRun & { source?: "runs" | "results" }): Promise<tfl.LayersModel> {
  if (run.source === "results") throw missingWeightsError(run);
  return loadModelDir(path.join(run.runDir, RUN_FILES.model));
}

function missingWeightsError(run: StoredRun): MnistLabError {
  const c = run.config;
  return new MnistLabError(
    `Expected the weights of ${run.runId} in runs/ but this clone has only its summary in ${run.runDir}; ` +
      `\`mnist-lab train --optimizer ${c.optimizer} --epochs ${c.epochs} --seed ${c.seed} --schedule ${c.schedule}\` trains them (resumable)`,
  );
}

/**
 * Test-set accuracy, loss and confusion matrix of a finished run: evaluated anew from its weights, or, for a run
 * known only from results/, the evaluation stored there (then `predictions` is absent and `missing` says why).
 */
export async function evaluateFinishedRun(
  run: FinishedRun,
  test: LabelledSplit,
  options: PredictOptions = {},
): Promise<Omit<Evaluation, "predictions"> & { predictions?: Evaluation["predictions"]; missing?: string }> {
  if (run.source === "results" && run.evaluation) {
    return { ...run.evaluation, missing: missingWeightsError(run).message };
  }
  const model = await loadRunModel(run);
  try {
    return await evaluateModel(model, test, options);
  } finally {
    model.dispose();
  }
}
