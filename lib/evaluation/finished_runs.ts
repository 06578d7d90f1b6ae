// Finished runs as the notebooks and the report read them: from runs/ with their weights, or from the committed
// summaries in results/ (a fresh clone has the full-profile runs only there).
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { MnistLabError } from "../shared/errors";
import { defaultResultsDir, defaultRunsDir } from "../shared/paths";
import { loadModelDir } from "../model/model_io";
import { evaluateModel, type Evaluation, type PredictOptions } from "../model/predict";
import type { LabelledImages } from "../data/preprocess";
import { PROFILES, PROFILE_SETTINGS, runDirFor } from "../training/profiles";
import {
  RUN_FILES,
  configLoss,
  listCheckpoints,
  loadRun,
  resolveTrainConfig,
  type RunMetrics,
  type StoredRun,
  type TrainConfigInput,
} from "../training/runs";
import { RESULT_FILES, readRunResult, type StoredEvaluation } from "./results";

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
    return {
      runId: r.runId,
      runDir: resultDir,
      config: r.config,
      history: r.history,
      metrics: r.metrics,
      source: "results",
      evaluation: r.evaluation,
    };
  }
  const resolved = resolveTrainConfig(config);
  const profile = PROFILES.find((p) => {
    const settings = PROFILE_SETTINGS[p];
    return (
      settings.epochs === resolved.epochs &&
      settings.trainLimit === resolved.trainLimit &&
      settings.validationLimit === resolved.validationLimit
    );
  });
  const how = profile
    ? `run notebooks/02_train.ipynb with profile ${profile}, seed ${resolved.seed} and schedule ${resolved.schedule} first, ` +
      `or mnist-lab report --profile ${profile} --seed ${resolved.seed} --schedule ${resolved.schedule}`
    : `train it first with the same settings (mnist-lab train --optimizer ${resolved.optimizer} ` +
      `--epochs ${resolved.epochs} --seed ${resolved.seed} --schedule ${resolved.schedule})`;
  if (fs.existsSync(path.join(dir, RUN_FILES.config))) {
    // Half a run is there: say so, and that the same training resumes it, rather than "none".
    const saved = listCheckpoints(dir)[0]?.epochsCompleted ?? 0;
    throw new MnistLabError(
      `Expected a finished ${resolved.optimizer} run at ${dir} but found it unfinished (${saved} of ${resolved.epochs} epochs saved); ` +
        `the same training resumes it after epoch ${saved}: ${how}`,
    );
  }
  throw new MnistLabError(`Expected a finished ${resolved.optimizer} run at ${dir} but found none; ${how}`);
}

/**
 * The trained model of a finished run (the caller disposes it); a run known only from results/ has none,
 * and says how to make it.
 */
export function loadRunModel(run: StoredRun & { source?: "runs" | "results" }): Promise<tfl.LayersModel> {
  if (run.source === "results") throw missingWeightsError(run);
  return loadModelDir(path.join(run.runDir, RUN_FILES.model));
}

function missingWeightsError(run: StoredRun): MnistLabError {
  const c = run.config;
  return new MnistLabError(
    `Expected the weights of ${run.runId} in runs/ but this clone has only its summary in ${run.runDir}; ` +
      `\`mnist-lab train --optimizer ${c.optimizer} --epochs ${c.epochs} --seed ${c.seed} --schedule ${c.schedule}\` ` +
      "trains them (resumable)",
  );
}

/**
 * Test-set accuracy, loss and confusion matrix of a finished run: evaluated anew from its weights, or, for a run
 * known only from results/, the evaluation stored there (then `predictions` is absent and `missing` says why).
 */
export async function evaluateFinishedRun(
  run: FinishedRun,
  test: LabelledImages,
  options: PredictOptions = {},
): Promise<Omit<Evaluation, "predictions"> & { predictions?: Evaluation["predictions"]; missing?: string }> {
  if (run.source === "results" && run.evaluation) {
    return { ...run.evaluation, missing: missingWeightsError(run).message };
  }
  const model = await loadRunModel(run);
  try {
    return await evaluateModel(model, test, { ...options, loss: configLoss(run.config) });
  } finally {
    model.dispose();
  }
}
