import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Command } from "commander";
import {
  LOCK_FOREIGN_STALE_MS,
  PROFILES,
  RunBusyError,
  REPORT_OPTIMIZERS,
  PRECISIONS,
  SCHEDULES,
  SLURM_REQUEUE_SIGNAL,
  TrainingInterrupted,
  checkSlurmTime,
  defaultResultsDir,
  defaultRunsDir,
  initBackend,
  loadMnist,
  newSlurmSweepDir,
  planSlurmSweep,
  readSlurmPlan,
  requeueThisSlurmTask,
  runSweepEntry,
  slurmBatchScript,
  slurmSweepStatus,
  submitSlurmSweep,
  sweepEntries,
  sweepEntryExported,
  sweepExportsResults,
  type ReportOptimizer,
  type RunResult,
  type SweepSpec,
} from "../../lib";
import { UsageError, choiceOption, integerOption, writableDirOption } from "../options";
import { terminalTraining } from "../terminal_output";

function parseList(flag: string, value: string, ok: (item: string) => boolean, expected: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  const bad = items.find((item) => !ok(item));
  if (bad !== undefined)
    throw new UsageError(`Expected --${flag} to be a comma-separated list of ${expected} but found ${JSON.stringify(bad)}`);
  return items;
}

interface SweepOptions {
  optimizer: string;
  seeds: string;
  schedule: string;
  profile: string;
  precision?: string;
  runsDir?: string;
  resultsDir?: string;
  slurm?: boolean;
  partition?: string;
  time?: string;
  cpusPerTask?: string;
  dryRun?: boolean;
}

/** The sweep's spec and directories, every value checked before hours of training (or a submission). */
function resolveSweep(opts: SweepOptions): { spec: SweepSpec; runsDir: string; resultsDir?: string } {
  const optimizers = parseList(
    "optimizer",
    opts.optimizer,
    (o) => (REPORT_OPTIMIZERS as readonly string[]).includes(o),
    '"rmsprop" and "adam"',
  ) as ReportOptimizer[];
  const seeds = parseList("seeds", opts.seeds, (s) => /^\d+$/.test(s) && Number.isSafeInteger(Number(s)), "integers ≥ 0").map(Number);
  const spec: SweepSpec = {
    optimizers,
    seeds,
    schedule: choiceOption("--schedule", opts.schedule, SCHEDULES),
    profile: choiceOption("--profile", opts.profile, PROFILES),
  };
  // float32 is the default and no field of a run's config, so that runs of before keep their ids.
  const precision = opts.precision === undefined ? undefined : choiceOption("--precision", opts.precision, ["float32", ...PRECISIONS]);
  if (precision === "mixed_bfloat16") spec.precision = precision;
  const runsDir = writableDirOption(opts.runsDir !== undefined ? "--runs-dir" : "the runs directory", opts.runsDir ?? defaultRunsDir());
  // Only the full profile's runs become results: smaller sweeps neither need nor create the folder.
  const resultsDir = sweepExportsResults(spec.profile)
    ? writableDirOption(opts.resultsDir !== undefined ? "--results-dir" : "the results directory", opts.resultsDir ?? defaultResultsDir())
    : undefined;
  // Exporting result <id> replaces results/<id>: were that the runs directory, it would replace the run itself.
  if (resultsDir !== undefined && fs.realpathSync(runsDir) === fs.realpathSync(resultsDir)) {
    throw new UsageError(
      `Expected the results directory to be apart from the runs directory but both are ${fs.realpathSync(runsDir)}; ` +
        "pass --results-dir or --runs-dir elsewhere",
    );
  }
  return { spec, runsDir, resultsDir };
}

/** The whole sweep on this machine, one run after another, then a table. */
async function sweepHere(spec: SweepSpec, runsDir: string, resultsDir: string | undefined): Promise<void> {
  const entries = sweepEntries(spec);
  const backend = await initBackend();
  // A run whose result is kept is not trained again (a fresh clone has results/ but no runs/).
  const kept = entries.filter((e) => sweepEntryExported(e, resultsDir));
  process.stdout.write(
    `Backend: ${backend.active}; ${entries.length} runs (${spec.profile}, ${spec.schedule})` +
      (kept.length > 0
        ? `; already in ${resultsDir}, not trained again: ${kept.map((e) => `${e.optimizer} seed ${e.seed}`).join(", ")}`
        : "") +
      "\n",
  );
  const toTrain = entries.filter((e) => !kept.includes(e));
  if (toTrain.length === 0) return;
  const data = await loadMnist();
  const rows: string[] = [];
  const busy: string[] = [];
  for (const entry of toTrain) {
    let run: RunResult;
    try {
      const done = await runSweepEntry(entry, { data, runsDir, resultsDir, ...terminalTraining });
      run = done.run;
      if (done.resultDir !== undefined) process.stdout.write(`Result written to ${done.resultDir}\n`);
    } catch (err) {
      // Another sweep (or a notebook, or a cluster task) holds this run: leave it to that process, go on with the free ones.
      if (!(err instanceof RunBusyError)) throw err;
      process.stdout.write(`${err.message}: moving on\n`);
      busy.push(`${entry.optimizer} seed ${entry.seed}`);
      continue;
    }
    const m = run.metrics;
    rows.push(
      [
        entry.optimizer,
        entry.seed,
        m.valAccuracy.toFixed(4),
        m.bestValAccuracy.toFixed(4),
        m.bestEpoch,
        m.secondsPerEpoch.toFixed(0),
        run.status,
        run.runId,
      ].join("\t"),
    );
  }
  process.stdout.write(
    `\n${["optimizer", "seed", "val_acc", "best", "best_epoch", "s/epoch", "status", "run"].join("\t")}\n${rows.join("\n")}\n`,
  );
  if (busy.length > 0) process.stdout.write(`Held by other processes, not trained here: ${busy.join(", ")}\n`);
}

/** The sweep's missing runs as one Slurm job array (or, with --dry-run, its batch script). */
async function sweepOnSlurm(opts: SweepOptions, spec: SweepSpec, runsDir: string, resultsDir: string | undefined): Promise<void> {
  const request = {
    partition: opts.partition,
    time: opts.time === undefined ? undefined : checkSlurmTime(opts.time),
    cpusPerTask: opts.cpusPerTask === undefined ? 2 : integerOption("--cpus-per-task", opts.cpusPerTask, 1),
  };
  const plan = planSlurmSweep(spec, { runsDir, resultsDir }, request);
  if (plan === undefined) {
    process.stdout.write(
      `Every run of this sweep is finished${resultsDir !== undefined ? " and in the results" : ""}: nothing to submit\n`,
    );
    return;
  }
  const planDir = newSlurmSweepDir(runsDir);
  if (opts.dryRun) {
    process.stdout.write(slurmBatchScript(plan, planDir));
    return;
  }
  const jobId = await submitSlurmSweep(plan, planDir);
  const runsFlag = opts.runsDir !== undefined ? ` --runs-dir ${path.resolve(opts.runsDir)}` : "";
  process.stdout.write(
    `Submitted job array ${jobId}: ${plan.entries.length} tasks, one per missing run; plan and logs in ${planDir}\n` +
      `Follow it with \`mnist-lab sweep-status${runsFlag}\` (or squeue -j ${jobId})` +
      (resultsDir !== undefined ? `; finished runs land in ${resultsDir}, and \`mnist-lab results\` gathers them.\n` : ".\n"),
  );
}

/** One task of a Slurm job array: train its entry of the plan; on Slurm's warning signal, save, requeue and exit. */
async function sweepTask(planFile: string, opts: { index?: string }): Promise<void> {
  const { plan } = readSlurmPlan(planFile);
  const rawIndex = opts.index ?? process.env.SLURM_ARRAY_TASK_ID;
  if (rawIndex === undefined) throw new UsageError("Expected --index or SLURM_ARRAY_TASK_ID (a Slurm array task) but found neither");
  const index = integerOption("--index", rawIndex, 0);
  const entry = plan.entries[index];
  if (entry === undefined) throw new UsageError(`Expected a task index below ${plan.entries.length} but found ${index}`);
  const stop = new AbortController();
  let requeue = false;
  process.on(SLURM_REQUEUE_SIGNAL, () => {
    process.stdout.write(`${SLURM_REQUEUE_SIGNAL}: the time limit is near; stopping after this batch to requeue\n`);
    requeue = true;
    stop.abort();
  });
  const restarts = process.env.SLURM_RESTART_COUNT ?? "0";
  process.stdout.write(`Task ${index} on ${os.hostname()} (restart ${restarts}): ${entry.optimizer} seed ${entry.seed} → ${entry.runId}\n`);
  const backend = await initBackend();
  process.stdout.write(`Backend: ${backend.active}\n`);
  const data = await loadMnist();
  // A run still held is a previous attempt on a node that died: its lock goes stale once its heartbeat stops.
  const giveUpAt = Date.now() + LOCK_FOREIGN_STALE_MS + 120_000;
  for (;;) {
    try {
      const done = await runSweepEntry(entry, {
        data,
        runsDir: plan.runsDir,
        resultsDir: plan.resultsDir,
        signal: stop.signal,
        ...terminalTraining,
      });
      process.stdout.write(
        `Run ${done.run.status}: ${done.run.runDir}${done.resultDir !== undefined ? `; result ${done.resultDir}` : ""}\n`,
      );
      return;
    } catch (err) {
      if (err instanceof TrainingInterrupted && requeue) {
        // Said before the requeue: Slurm then ends this task at once.
        process.stdout.write(`Saved epochs stay in ${path.join(plan.runsDir, entry.runId)}; requeueing this task\n`);
        requeueThisSlurmTask();
        return;
      }
      if (!(err instanceof RunBusyError) || Date.now() > giveUpAt || requeue) throw err;
      process.stdout.write(`${err.message}: waiting for it\n`);
      await new Promise((resolve) => setTimeout(resolve, 30_000));
    }
  }
}

/** Every Slurm sweep's tasks under a runs directory, with their state, epochs and log. */
function sweepStatus(opts: { runsDir?: string }): void {
  const runsDir = opts.runsDir ?? defaultRunsDir();
  const rows = slurmSweepStatus(runsDir);
  if (rows.length === 0) {
    process.stdout.write(`No Slurm sweep in ${runsDir}: submit one with \`mnist-lab sweep --slurm\`\n`);
    return;
  }
  const header = ["job", "task", "optimizer", "seed", "state", "epochs", "run"];
  const lines = rows.map((r) =>
    [
      r.jobId ?? "-",
      r.index,
      r.entry.optimizer,
      r.entry.seed,
      r.slurmState !== undefined && r.slurmState.toLowerCase() !== r.state ? `${r.state} (${r.slurmState})` : r.state,
      `${r.epochsDone}/${r.epochs}`,
      r.entry.runId,
    ].join("\t"),
  );
  process.stdout.write(`${header.join("\t")}\n${lines.join("\n")}\n`);
  for (const r of rows.filter((row) => row.state === "failed")) {
    const log = r.log !== undefined && fs.existsSync(r.log) ? `its log: ${r.log}` : `no log (it never started; would be ${r.log})`;
    process.stdout.write(`Failed: ${r.entry.optimizer} seed ${r.entry.seed} (run ${r.entry.runId}); ${log}\n`);
  }
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  process.stdout.write(`${[...counts].map(([state, n]) => `${n} ${state}`).join(", ")}\n`);
}

/** `mnist-lab sweep`: the missing runs of optimizers × seeds, here one after another or on Slurm as a job array. */
export function registerSweepCommand(program: Command): void {
  program
    .command("sweep")
    .description("train every missing run of optimizers × seeds under a profile (resumable): here, one at a time, or on Slurm")
    .option("--optimizer <list>", "comma-separated optimizers", "rmsprop,adam")
    .option("--seeds <list>", "comma-separated seeds", "1,2,3")
    .option("--schedule <name>", `${SCHEDULES.join(" or ")}`, "as-run")
    .option("--profile <name>", `${PROFILES.join(", ")}`, "full")
    .option("--precision <name>", "float32 (the default) or mixed_bfloat16 (bf16 convolutions; AVX512_BF16 or AMX CPUs)")
    .option(
      "--runs-dir <dir>",
      "where run directories go (default: $MNIST_LAB_RUNS_DIR, else runs/ in the project); on Slurm, shared by every node",
    )
    .option("--results-dir <dir>", "where finished full-profile runs are summarised (default: results/ in the project)")
    .option("--slurm", "submit one Slurm job array, a task per missing run, instead of training here")
    .option("--partition <name>", "Slurm partition (default: the cluster's)")
    .option("--time <limit>", "Slurm time limit per task, e.g. 02:00:00; a task near it saves, requeues and resumes")
    .option("--cpus-per-task <n>", "CPUs per task (default 2)")
    .option("--dry-run", "with --slurm: print the batch script, submit nothing")
    .action(async (opts: SweepOptions) => {
      if (!opts.slurm && (opts.partition ?? opts.time ?? opts.cpusPerTask ?? opts.dryRun) !== undefined) {
        throw new UsageError("Expected --slurm with --partition, --time, --cpus-per-task or --dry-run but found them without it");
      }
      const { spec, runsDir, resultsDir } = resolveSweep(opts);
      if (opts.slurm) await sweepOnSlurm(opts, spec, runsDir, resultsDir);
      else await sweepHere(spec, runsDir, resultsDir);
    });
  program
    .command("sweep-status")
    .description("each task of the Slurm sweeps in a runs directory: pending, running, done or failed, with its log")
    .option("--runs-dir <dir>", "the sweeps' runs directory (default: $MNIST_LAB_RUNS_DIR, else runs/ in the project)")
    .action((opts: { runsDir?: string }) => sweepStatus(opts));
  program
    .command("sweep-task", { hidden: true })
    .description("one task of a Slurm sweep (its batch script calls this)")
    .argument("<plan>", "the sweep's plan.json")
    .option("--index <n>", "the task (default: $SLURM_ARRAY_TASK_ID)")
    .action(sweepTask);
}
