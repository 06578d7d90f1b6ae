import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { readCheckedDir, writeCheckedDir } from "../shared/checked_dir";
import { MnistLabError } from "../shared/errors";
import { evaluateModel } from "../model/predict";
import type { LabelledImages } from "../data/preprocess";
import { defaultResultsDir } from "../shared/paths";
import { RUN_FILES, configLoss, parseHistoryCsv, type RunMetrics, type StoredRun, type TrainConfig } from "../training/runs";
import type { EpochLogs } from "../training/callbacks";
import { gunzipSteps, gzipSteps, parseStepsCsv, type StepLog } from "../training/steps";

// Committed summaries of finished runs: `results/<run-id>/` holds the run's config, history and metrics and
// its test-set evaluation (accuracy, loss, confusion matrix) — small text, so a fresh clone can rebuild the
// reproduction's statistics without the weights, which stay in `runs/`.

export const RESULT_FILES = {
  config: "config.json",
  history: "history.csv",
  metrics: "metrics.json",
  evaluation: "evaluation.json",
  /** Per-step loss and accuracy, gzipped CSV (absent in results exported before steps were kept). */
  steps: "steps.csv.gz",
} as const;

/** The test-set evaluation stored with a result. */
export interface StoredEvaluation {
  accuracy: number;
  loss: number;
  /** `confusion[true][predicted]` over the 10,000 test images. */
  confusion: number[][];
  count: number;
}

/** A finished run as committed under results/. */
export interface RunResultSummary {
  runId: string;
  dir: string;
  config: TrainConfig;
  history: EpochLogs[];
  metrics: RunMetrics;
  evaluation: StoredEvaluation;
  /** Every training step's loss and accuracy; empty for results exported before steps were kept. */
  steps: StepLog[];
}

/**
 * Evaluates a finished run's model on `test` and writes `results/<run-id>/` (replacing an older copy).
 * @example
 * await exportRunResult(run, model, mnist.test);
 */
export async function exportRunResult(
  run: StoredRun,
  model: tfl.LayersModel,
  test: LabelledImages,
  resultsDir = defaultResultsDir(),
): Promise<string> {
  if (!run.metrics) throw new MnistLabError(`Expected a finished run at ${run.runDir} but found no ${RUN_FILES.metrics}`);
  const target = path.join(resultsDir, run.runId);
  if (realPath(target) === realPath(run.runDir)) {
    throw new MnistLabError(
      `Expected a results directory apart from the runs directory but ${target} is the run itself: ` +
        "exporting would replace its model and checkpoints; pass another results directory",
    );
  }
  checkMetricsAgainstHistory(run);
  const evaluation = await evaluateModel(model, test, { loss: configLoss(run.config) });
  const stored: StoredEvaluation = {
    accuracy: evaluation.accuracy,
    loss: evaluation.loss,
    confusion: evaluation.confusion,
    count: evaluation.count,
  };
  const dir = target;
  const stepsFile = path.join(run.runDir, RUN_FILES.steps);
  const steps: Record<string, Buffer> = {};
  if (fs.existsSync(stepsFile)) steps[RESULT_FILES.steps] = gzipSteps(parseStepsCsv(fs.readFileSync(stepsFile, "utf8"), stepsFile));
  await writeCheckedDir(
    dir,
    {
      [RESULT_FILES.config]: fs.readFileSync(path.join(run.runDir, RUN_FILES.config)),
      [RESULT_FILES.history]: fs.readFileSync(path.join(run.runDir, RUN_FILES.history)),
      [RESULT_FILES.metrics]: fs.readFileSync(path.join(run.runDir, RUN_FILES.metrics)),
      [RESULT_FILES.evaluation]: `${JSON.stringify(stored, null, 1)}\n`,
      ...steps,
    },
    { replace: true },
  );
  return dir;
}

/**
 * A result's figures must be the run's own: metrics.json's accuracies are checked against the history they summarise
 * (a hand-edited metrics.json is refused, never laundered into a checksummed result).
 */
function checkMetricsAgainstHistory(run: StoredRun): void {
  const m = run.metrics!;
  const h = run.history;
  const file = path.join(run.runDir, RUN_FILES.metrics);
  if (h.length === 0 || h.length !== m.epochsCompleted) {
    throw new MnistLabError(`Expected ${file} to summarise the ${h.length} epochs of its history but it says ${m.epochsCompleted}`);
  }
  const best = Math.max(...h.map((e) => e.val_accuracy));
  const last = h[h.length - 1];
  const checks: Array<[string, number, number]> = [
    ["valAccuracy", m.valAccuracy, last.val_accuracy],
    ["valLoss", m.valLoss, last.val_loss],
    ["trainAccuracy", m.trainAccuracy, last.accuracy],
    ["bestValAccuracy", m.bestValAccuracy, best],
    ["bestEpoch's val_accuracy", h[m.bestEpoch - 1]?.val_accuracy ?? NaN, best],
  ];
  for (const [name, stated, fromHistory] of checks) {
    // history.csv keeps the figures as printed: a few digits less than metrics.json.
    if (!(Math.abs(stated - fromHistory) <= 1e-6 * Math.max(1, Math.abs(fromHistory)))) {
      throw new MnistLabError(`Expected ${name} in ${file} to be ${fromHistory} as its history says but found ${stated}`);
    }
  }
}

/** A path with its symlinks resolved, as far as it exists. */
function realPath(p: string): string {
  const resolved = path.resolve(p);
  return fs.existsSync(resolved) ? fs.realpathSync(resolved) : path.join(realPath(path.dirname(resolved)), path.basename(resolved));
}

/** Every committed result under `resultsDir`, verified by its checksums, sorted by run id. */
export function listRunResults(resultsDir = defaultResultsDir()): RunResultSummary[] {
  if (!fs.existsSync(resultsDir)) return [];
  return (
    fs
      .readdirSync(resultsDir)
      // A hidden folder is one being written or replaced (atomic_file's temp siblings), never a result.
      // A result that lost a file it lists is read, and refused naming the file, rather than silently skipped.
      .filter(
        (name) =>
          !name.startsWith(".") &&
          (fs.existsSync(path.join(resultsDir, name, RESULT_FILES.metrics)) ||
            fs.existsSync(path.join(resultsDir, name, "checksums.json"))),
      )
      .sort()
      .map((name) => readRunResult(path.join(resultsDir, name)))
  );
}

/** One committed result; throws naming the file when one is damaged. */
export function readRunResult(dir: string): RunResultSummary {
  const files = readCheckedDir(dir)!;
  const text = (name: string): string => {
    const data = files.get(name);
    if (!data) throw new MnistLabError(`Expected ${path.join(dir, name)} in the result's checksums.json but it is not listed`);
    return data.toString("utf8");
  };
  const json = <T>(name: string): T => {
    try {
      return JSON.parse(text(name)) as T;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new MnistLabError(`Expected ${path.join(dir, name)} to be JSON but it is not (${err.message})`);
    }
  };
  const history = parseHistoryCsv(text(RESULT_FILES.history)).map(({ epoch: _epoch, ...rest }) => rest as EpochLogs);
  if (history.length === 0)
    throw new MnistLabError(`Expected ${path.join(dir, RESULT_FILES.history)} to hold at least one epoch but found none`);
  return {
    runId: path.basename(dir),
    dir,
    config: json<TrainConfig>(RESULT_FILES.config),
    history,
    metrics: json<RunMetrics>(RESULT_FILES.metrics),
    evaluation: json<StoredEvaluation>(RESULT_FILES.evaluation),
    steps: files.has(RESULT_FILES.steps) ? gunzipSteps(files.get(RESULT_FILES.steps)!, path.join(dir, RESULT_FILES.steps)) : [],
  };
}
