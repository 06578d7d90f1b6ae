import * as fs from "node:fs";
import * as path from "node:path";
import { CHECKSUMS_FILE } from "../shared/checked_dir";
import type { ReportOptimizer } from "../training/optimizers";
import { profileTrainConfig, type Profile } from "../training/profiles";
import { RUN_FILES, resolveTrainConfig, runIdFor, type Precision, type Schedule, type TrainConfigInput } from "../training/runs";
import { trainRun, type RunResult, type TrainRunOptions } from "../training/train";
import { exportRunResult } from "./results";

// A sweep is optimizers × seeds under one profile and schedule. Run on this machine (`sweep`) or as a cluster's
// job array (`sweep --slurm`), each of its runs goes through runSweepEntry: the same resumable training into the
// runs directory, then, for the full profile, its result. Either way a run has one writer (its lock).

/** What a sweep trains. */
export interface SweepSpec {
  optimizers: ReportOptimizer[];
  seeds: number[];
  schedule: Schedule;
  profile: Profile;
  /** mixed_bfloat16 for bf16 convolutions (CPUs with AVX512_BF16 or AMX); absent: float32, the report's. */
  precision?: Precision;
}

/** One run of a sweep. */
export interface SweepEntry {
  optimizer: ReportOptimizer;
  seed: number;
  config: TrainConfigInput;
  /** The run's directory name under the runs directory (and its result's under the results directory). */
  runId: string;
}

/** A sweep's runs, seed by seed, each seed's optimizers together (the order a partial sweep is most useful in). */
export function sweepEntries(spec: SweepSpec): SweepEntry[] {
  return spec.seeds.flatMap((seed) =>
    spec.optimizers.map((optimizer) => {
      const config = profileTrainConfig(spec.profile, optimizer, {
        seed,
        schedule: spec.schedule,
        ...(spec.precision ? { precision: spec.precision } : {}),
      });
      return { optimizer, seed, config, runId: runIdFor(resolveTrainConfig(config)) };
    }),
  );
}

/** Only the full profile's runs become results (smaller ones cannot say anything about the report's figures). */
export function sweepExportsResults(profile: Profile): boolean {
  return profile === "full";
}

/** Whether `resultsDir` already holds the entry's exported result. */
export function sweepEntryExported(entry: SweepEntry, resultsDir: string | undefined): boolean {
  return resultsDir !== undefined && fs.existsSync(path.join(resultsDir, entry.runId, CHECKSUMS_FILE));
}

/**
 * Where a sweep entry stands on disk: done (its result is kept; without a results directory, its run finished),
 * started, or not begun. A kept result is done even with no run directory: a fresh clone has results/ from git but
 * no runs/, and training the run again would only repeat it.
 */
export function sweepEntryProgress(entry: SweepEntry, runsDir: string, resultsDir: string | undefined): "done" | "started" | "absent" {
  const runDir = path.join(runsDir, entry.runId);
  if (sweepEntryExported(entry, resultsDir)) return "done";
  if (resultsDir === undefined && fs.existsSync(path.join(runDir, RUN_FILES.metrics))) return "done";
  return fs.existsSync(path.join(runDir, RUN_FILES.config)) ? "started" : "absent";
}

/** The epochs a run directory has completed (its history's rows). */
export function epochsCompleted(runDir: string): number {
  const file = path.join(runDir, RUN_FILES.history);
  if (!fs.existsSync(file)) return 0;
  return Math.max(0, fs.readFileSync(file, "utf8").trim().split("\n").length - 1);
}

/**
 * Trains one entry (resuming whatever is on disk) and, when `resultsDir` is given, exports its result (which refuses
 * a results directory that is the runs directory). Throws RunBusyError when another process holds the run, and
 * TrainingInterrupted when `signal` stops it.
 */
export async function runSweepEntry(
  entry: SweepEntry,
  options: Pick<TrainRunOptions, "data" | "signal" | "log" | "onProgress"> & { runsDir: string; resultsDir?: string },
): Promise<{ run: RunResult; resultDir?: string }> {
  const run = await trainRun(entry.config, {
    data: options.data,
    runsDir: options.runsDir,
    loadModel: options.resultsDir !== undefined,
    signal: options.signal,
    log: options.log,
    onProgress: options.onProgress,
  });
  if (options.resultsDir === undefined || !run.model) return { run };
  try {
    return { run, resultDir: await exportRunResult(run, run.model, options.data.test, options.resultsDir) };
  } finally {
    run.model.dispose();
  }
}
