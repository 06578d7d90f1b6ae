import * as tfl from "@tensorflow/tfjs-layers";
import pl from "nodejs-polars";
import { MnistLabError, describeValue } from "../shared/errors";
import { PROFILE_SETTINGS, type Profile } from "../training/profiles";
import { seedGroups } from "./reproduction";
import { listRunResults } from "./results";
import { REPORT_TRAIN_DEFAULTS, resolveTrainConfig } from "../training/runs";
import { trainModel, type ExperimentConfigInput, type RunResult, type TrainRunOptions } from "../training/train";

// The report's "chosen by comparison" claims rerun: several models or settings trained by trainModel and compared.

/** A model builder given the run's seed (a ModelSpec from loadNotebookModel or modelVariant is one). */
export type ModelBuilder = (seed: number) => tfl.LayersModel | Promise<tfl.LayersModel>;

/** One arm of a comparison: how to build its model and what it changes in the shared config. */
export interface Experiment {
  build: ModelBuilder;
  config?: Partial<ExperimentConfigInput>;
}

/**
 * The size experiments run at: the quick profile under the full report, the smoke profile otherwise, so that
 * `npm start` (quick) stays within minutes for six extra runs.
 */
export function experimentSettings(profile: Profile): {
  epochs: number;
  trainLimit: number | null;
  validationLimit: number | null;
  label: Profile;
} {
  const label: Profile = profile === "full" ? "quick" : "smoke";
  const { epochs, trainLimit, validationLimit } = PROFILE_SETTINGS[label];
  return { epochs, trainLimit, validationLimit, label };
}

/**
 * Checks the settings every arm of a comparison shares where a notebook sets them (05's setup cell), so that a
 * wrong value (`optimizer: "Adam"`) fails there, in one line, and not in the first comparison that trains.
 * Returns them unchanged.
 * @example
 * const base = experimentBase({ optimizer: "rmsprop", seed: 42, epochs: 2 });
 */
export function experimentBase<T extends ExperimentConfigInput>(base: T): T {
  // The arms' models are built later; a stand-in architecture lets every other setting be checked now.
  resolveTrainConfig({ ...base, model: null, architecture: { sha256: "checked-before-any-model", parameters: 0 } });
  return base;
}

/**
 * Trains every arm (each a cached, resumable run; a finished one loads) and returns the runs by label, models
 * disposed. `base` holds what the arms share; each arm's model is built with the run's seed.
 * @example
 * const model = await loadNotebookModel();
 * const arms = { "dropout 0": modelVariant(model, { dropout: 0 }), "dropout 0.5": modelVariant(model, { dropout: 0.5 }) };
 * const runs = await runExperiments(arms, { optimizer: "rmsprop", epochs: 2 }, { data: mnist });
 */
export async function runExperiments(
  experiments: Record<string, Experiment | ModelBuilder>,
  base: ExperimentConfigInput,
  options: TrainRunOptions & { onStart?: (label: string) => void },
): Promise<Record<string, RunResult>> {
  const entries = Object.entries(experiments);
  if (entries.length === 0) throw new MnistLabError("Expected at least one experiment (label → model builder) but found none");
  const runs: Record<string, RunResult> = {};
  for (const [label, arm] of entries) {
    const { build, config } = typeof arm === "function" ? { build: arm, config: {} } : arm;
    options.onStart?.(label);
    const model = await build({ ...base, ...config }.seed ?? REPORT_TRAIN_DEFAULTS.seed);
    if (!(model instanceof tfl.LayersModel)) {
      throw new MnistLabError(
        `Expected experiment "${label}"'s builder to return a tfjs model but found ${describeValue(model)} (a missing return?)`,
      );
    }
    try {
      const { model: _trained, ...run } = await trainModel(model, { ...base, ...config }, { ...options, name: label });
      runs[label] = run;
    } finally {
      model.optimizer?.dispose();
      model.dispose();
    }
  }
  return runs;
}

/** One row per arm: parameters, final and best validation accuracy, seconds per epoch, whether it was loaded. */
export function experimentFrame(runs: Record<string, RunResult>): pl.DataFrame {
  const entries = Object.entries(runs);
  return pl.DataFrame({
    experiment: entries.map(([label]) => label),
    parameters: entries.map(([, r]) => r.config.architecture?.parameters ?? null),
    "final val_accuracy": entries.map(([, r]) => `${(100 * r.metrics.valAccuracy).toFixed(2)}%`),
    "best val_accuracy": entries.map(([, r]) => `${(100 * r.metrics.bestValAccuracy).toFixed(2)}%`),
    "s/epoch": entries.map(([, r]) => Math.round(r.metrics.secondsPerEpoch)),
    run: entries.map(([, r]) => `${r.status}: ${r.runId}`),
  });
}

/** The seed-to-seed sd of final validation accuracy measured by the reproduction (pooled over its groups). */
export function seedSpreadReference(resultsDir?: string): { sd: number; source: string } | undefined {
  const groups = seedGroups(listRunResults(resultsDir)).filter((g) => g.runs.length >= 2);
  if (groups.length === 0) return undefined;
  const pooledVariance =
    groups.reduce((a, g) => a + (g.runs.length - 1) * g.final.sd ** 2, 0) / groups.reduce((a, g) => a + g.runs.length - 1, 0);
  const seeds = groups.reduce((a, g) => a + g.runs.length, 0);
  return { sd: Math.sqrt(pooledVariance), source: `${seeds} full-profile runs in ${groups.length} groups (results/)` };
}

/** Which arm wins on final validation accuracy, by how much over the runner-up, and whether that exceeds the seed spread. */
export function experimentVerdict(runs: Record<string, RunResult>, reference = seedSpreadReference()): string {
  const ranked = Object.entries(runs).sort(([, a], [, b]) => b.metrics.valAccuracy - a.metrics.valAccuracy);
  if (ranked.length < 2) return "Needs at least two experiments to compare.";
  const [[winner, w], [second, s]] = ranked;
  const gap = w.metrics.valAccuracy - s.metrics.valAccuracy;
  // A tie is no win: every arm at the top accuracy is named.
  const tied = ranked.filter(([, r]) => r.metrics.valAccuracy === w.metrics.valAccuracy).map(([label]) => label);
  const head =
    tied.length > 1
      ? `${tied.join(" and ")} tie at ${(100 * w.metrics.valAccuracy).toFixed(2)}%: no winner`
      : `${winner} wins with ${(100 * w.metrics.valAccuracy).toFixed(2)}%, ${(100 * gap).toFixed(2)} points ahead of ${second}`;
  const quickSteps = PROFILE_SETTINGS.quick.trainLimit ?? Infinity;
  if (ranked.some(([, r]) => (r.config.trainLimit ?? Infinity) < quickSteps)) {
    return (
      `${head} — but at this size (${w.config.epochs} epochs on ${w.config.trainLimit} images) BatchNorm's moving statistics ` +
      "have not settled and validation is near chance: it checks the machinery, not the report's claim " +
      "(`mnist-lab report --profile full` runs it at the quick size)."
    );
  }
  if (!reference) return `${head}; no seed-to-seed spread is measured yet (04_reproduction), so whether that gap is noise is open.`;
  const ratio = gap / reference.sd;
  const verdict = ratio > 2 ? "more than twice" : ratio > 1 ? "more than" : "within";
  return (
    `${head}: ${verdict} the seed-to-seed spread (sd ${(100 * reference.sd).toFixed(2)} points over ${reference.source}, ` +
    "measured at the full profile, not at this size)."
  );
}
