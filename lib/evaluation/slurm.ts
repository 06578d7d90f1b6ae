import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../shared/atomic_file";
import { MnistLabError, fsErrorCode } from "../shared/errors";
import { projectRoot } from "../shared/paths";
import { randomBytes } from "node:crypto";
import { epochsCompleted, sweepEntries, sweepEntryProgress, sweepExportsResults, type SweepEntry, type SweepSpec } from "./sweep";

// A sweep on a Slurm cluster is one job array: task i trains entry i of the sweep's plan.json, with the same
// resumable training as a local sweep, into a runs directory every node shares. The plan, the batch script and
// the tasks' logs live in `<runs dir>/.slurm/<sweep>/`, so anyone who can see the runs can follow the sweep.
// Slurm is driven through its commands (sbatch, squeue, sacct, scontrol): they are its stable interface.

/** Where a runs directory keeps its Slurm sweeps (a dot-directory: lists of runs and results skip it). */
export const SLURM_SWEEPS_DIR = ".slurm";
const PLAN_FILE = "plan.json";
const SCRIPT_FILE = "sweep.sbatch";
/** Before the time limit Slurm sends this to the task, which saves, requeues itself and exits (Node keeps USR1 for its inspector). */
export const SLURM_REQUEUE_SIGNAL = "SIGUSR2";
/** Seconds before the time limit that signal comes: stopping takes one batch, requeueing one scontrol call. */
const SIGNAL_LEAD_SECONDS = 120;

/** What the batch script asks of Slurm. */
export interface SlurmRequest {
  partition?: string;
  /** Slurm's time limit, e.g. "02:00:00" or "1-00:00:00". */
  time?: string;
  cpusPerTask: number;
}

/** A submitted (or about to be submitted) sweep: task i of the job array trains entries[i]. */
export interface SlurmSweepPlan {
  spec: SweepSpec;
  runsDir: string;
  /** Undefined when the profile keeps no results. */
  resultsDir?: string;
  request: SlurmRequest;
  entries: SweepEntry[];
  created: string;
  /** Set once sbatch accepted the script. */
  jobId?: string;
}

const SLURM_TIME = /^(\d+-)?\d{1,2}(:\d{2}){0,2}$/;

/** Checks Slurm's time format (minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]) where it is given, not when sbatch refuses it. */
export function checkSlurmTime(time: string): string {
  if (!SLURM_TIME.test(time))
    throw new MnistLabError(`Expected --time as Slurm writes it (e.g. 02:00:00 or 1-00:00:00) but found ${JSON.stringify(time)}`);
  return time;
}

/** Quotes a word for bash. */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/** The job array's batch script for a plan stored at `planDir`. */
export function slurmBatchScript(plan: SlurmSweepPlan, planDir: string): string {
  const directives = [
    "--job-name=mnist-lab-sweep",
    `--array=0-${plan.entries.length - 1}`,
    `--cpus-per-task=${plan.request.cpusPerTask}`,
    ...(plan.request.time !== undefined ? [`--time=${plan.request.time}`] : []),
    ...(plan.request.partition !== undefined ? [`--partition=${plan.request.partition}`] : []),
    `--output=${path.join(planDir, "logs", "%A_%a.out")}`,
    // A requeued task appends to its log, so one file tells the whole story of a run.
    "--open-mode=append",
    "--requeue",
    `--signal=B:${SLURM_REQUEUE_SIGNAL.replace(/^SIG/, "")}@${SIGNAL_LEAD_SECONDS}`,
  ];
  const tasks = plan.entries.map((e, i) => `#   ${i}: ${e.optimizer} seed ${e.seed} → ${e.runId}`);
  return [
    "#!/bin/bash",
    ...directives.map((d) => `#SBATCH ${d}`),
    `# mnist-lab sweep: ${plan.spec.profile} profile, ${plan.spec.schedule} schedule; runs in ${plan.runsDir}`,
    ...tasks,
    "# Each task resumes its run after the last saved epoch, so a requeued or resubmitted task loses at most one epoch.",
    `# ${SIGNAL_LEAD_SECONDS} s before the time limit Slurm sends ${SLURM_REQUEUE_SIGNAL}: the task saves, requeues itself and exits.`,
    'export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `exec node ${shellWord(path.join(projectRoot(), "bin", "mnist-lab"))} sweep-task ${shellWord(path.join(planDir, PLAN_FILE))}`,
    "",
  ].join("\n");
}

/** The plan of a sweep's missing runs (finished and exported ones are left out); undefined when none is missing. */
export function planSlurmSweep(
  spec: SweepSpec,
  dirs: { runsDir: string; resultsDir?: string },
  request: SlurmRequest,
): SlurmSweepPlan | undefined {
  const runsDir = path.resolve(dirs.runsDir);
  const resultsDir = sweepExportsResults(spec.profile) && dirs.resultsDir !== undefined ? path.resolve(dirs.resultsDir) : undefined;
  const entries = sweepEntries(spec).filter((e) => sweepEntryProgress(e, runsDir, resultsDir) !== "done");
  if (entries.length === 0) return undefined;
  return { spec, runsDir, resultsDir, request, entries, created: new Date().toISOString() };
}

/** A new sweep directory's path under the runs directory: creation time, then random letters so two never meet. */
export function newSlurmSweepDir(runsDir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return path.join(runsDir, SLURM_SWEEPS_DIR, `${stamp}-${randomBytes(3).toString("hex")}`);
}

/** Runs a Slurm command; a missing command or a refusal becomes one line naming it. */
function slurmCommand(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    if (fsErrorCode(err) === "ENOENT") {
      throw new MnistLabError(`Expected Slurm's ${command} on PATH but found none: run this on the cluster's login node`);
    }
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw new MnistLabError(`Expected ${command} ${args.join(" ")} to succeed but it said: ${stderr || (err as Error).message}`);
  }
}

/** Writes the plan and its batch script to `planDir` and submits the script; returns the job id. */
export async function submitSlurmSweep(plan: SlurmSweepPlan, planDir: string): Promise<string> {
  fs.mkdirSync(path.join(planDir, "logs"), { recursive: true });
  await writeFileAtomic(path.join(planDir, PLAN_FILE), `${JSON.stringify(plan, null, 2)}\n`);
  await writeFileAtomic(path.join(planDir, SCRIPT_FILE), slurmBatchScript(plan, planDir));
  const out = slurmCommand("sbatch", ["--parsable", path.join(planDir, SCRIPT_FILE)]).trim();
  const jobId = out.split(";")[0];
  if (!/^\d+$/.test(jobId)) throw new MnistLabError(`Expected sbatch to print a job id but found ${JSON.stringify(out)}`);
  await writeFileAtomic(path.join(planDir, PLAN_FILE), `${JSON.stringify({ ...plan, jobId }, null, 2)}\n`);
  return jobId;
}

/** Reads a sweep's plan.json (a file or its directory). */
export function readSlurmPlan(file: string): { plan: SlurmSweepPlan; planDir: string } {
  const planFile = fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, PLAN_FILE) : file;
  let plan: SlurmSweepPlan;
  try {
    plan = JSON.parse(fs.readFileSync(planFile, "utf8")) as SlurmSweepPlan;
  } catch (err) {
    throw new MnistLabError(`Expected a sweep plan (JSON) at ${planFile} but ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(plan.entries) || typeof plan.runsDir !== "string") {
    throw new MnistLabError(`Expected a sweep plan with entries and a runs directory in ${planFile} but found neither`);
  }
  return { plan, planDir: path.dirname(planFile) };
}

/** The log file of task `index` of a submitted sweep. */
export function slurmTaskLog(planDir: string, jobId: string, index: number): string {
  return path.join(planDir, "logs", `${jobId}_${index}.out`);
}

/** Asks Slurm to requeue the task this process runs as (it is then stopped and started again, resuming its run). */
export function requeueThisSlurmTask(): string {
  const array = process.env.SLURM_ARRAY_JOB_ID;
  const task = process.env.SLURM_ARRAY_TASK_ID;
  const job = array !== undefined && task !== undefined ? `${array}_${task}` : process.env.SLURM_JOB_ID;
  if (job === undefined) throw new MnistLabError("Expected to run inside a Slurm job (SLURM_JOB_ID) but found none");
  slurmCommand("scontrol", ["requeue", job]);
  return job;
}

export type SweepTaskState = "pending" | "running" | "done" | "failed" | "not submitted" | "unknown";

export interface SweepTaskStatus {
  planDir: string;
  jobId?: string;
  index: number;
  entry: SweepEntry;
  state: SweepTaskState;
  /** Slurm's own word for the task, when squeue or sacct knows it. */
  slurmState?: string;
  epochsDone: number;
  epochs: number;
  log?: string;
}

/** Slurm's states of a job array's tasks ("<job>_<index>" → state), from squeue and, where accounting runs, sacct. */
function slurmTaskStates(jobId: string): Map<string, string> | undefined {
  const states = new Map<string, string>();
  let known = false;
  const commands: Array<[string, string[]]> = [
    ["sacct", ["-n", "-P", "-X", "-j", jobId, "-o", "JobID,State"]],
    // Without accounting, sacct knows nothing: scontrol still remembers recently ended tasks.
    ["scontrol", ["show", "job", "-o", jobId]],
    // squeue last: its view of live tasks is the newest.
    ["squeue", ["-h", "-r", "-j", jobId, "-o", "%i|%T"]],
  ];
  for (const [command, args] of commands) {
    let out: string;
    try {
      out = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      continue; // absent here, accounting disabled, or the job too old for squeue
    }
    known = true;
    if (command === "scontrol") {
      // One line per job; a task that has ended stays here for MinJobAge (5 min by default).
      for (const m of out.matchAll(/ArrayJobId=(\d+) ArrayTaskId=(\d+) .*?JobState=(\S+)/g)) states.set(`${m[1]}_${m[2]}`, m[3]);
      continue;
    }
    for (const line of out.split("\n")) {
      const [id, state] = line.trim().split("|");
      if (id && state) states.set(id, state.split(" ")[0]);
    }
  }
  return known ? states : undefined;
}

const SLURM_RUNNING = new Set(["RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING"]);
const SLURM_PENDING = new Set(["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED"]);

/** Every task of every Slurm sweep under `runsDir`: its run's progress on disk, and Slurm's word where it has one. */
export function slurmSweepStatus(runsDir: string): SweepTaskStatus[] {
  const root = path.join(runsDir, SLURM_SWEEPS_DIR);
  if (!fs.existsSync(root)) return [];
  const rows: SweepTaskStatus[] = [];
  for (const name of fs.readdirSync(root).sort()) {
    if (!fs.existsSync(path.join(root, name, PLAN_FILE))) continue;
    const { plan, planDir } = readSlurmPlan(path.join(root, name));
    const states = plan.jobId !== undefined ? slurmTaskStates(plan.jobId) : undefined;
    plan.entries.forEach((entry, index) => {
      const progress = sweepEntryProgress(entry, plan.runsDir, plan.resultsDir);
      const slurmState = plan.jobId !== undefined ? states?.get(`${plan.jobId}_${index}`) : undefined;
      let state: SweepTaskState;
      if (plan.jobId === undefined) state = "not submitted";
      else if (progress === "done") state = "done";
      else if (slurmState !== undefined && SLURM_RUNNING.has(slurmState)) state = "running";
      else if (slurmState !== undefined && SLURM_PENDING.has(slurmState)) state = "pending";
      // Gone from the queue (or ended) without a finished run: the task failed, was cancelled or timed out.
      else if (states !== undefined) state = "failed";
      else state = "unknown";
      rows.push({
        planDir,
        jobId: plan.jobId,
        index,
        entry,
        state,
        slurmState,
        epochsDone: epochsCompleted(path.join(plan.runsDir, entry.runId)),
        epochs: entry.config.epochs ?? 0,
        log: plan.jobId !== undefined ? slurmTaskLog(planDir, plan.jobId, index) : undefined,
      });
    });
  }
  return rows;
}
