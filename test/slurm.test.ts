import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { slurmMissing, startSlurmCluster, type SlurmCluster } from "./helpers/slurm_cluster";
import { tempDir } from "./helpers/train_fixtures";

// A smoke sweep (2 seeds × 2 optimizers) through a real single-node Slurm cluster, against the same sweep run
// here: one task is cancelled before it starts and one is preempted with Slurm's time-limit signal; the
// resubmitted and the requeued tasks resume, and every run's history and per-step log equal the local sweep's.

const cli = path.join(__dirname, "..", "bin", "mnist-lab");
const SWEEP = ["sweep", "--profile", "smoke", "--seeds", "1,2"];

function mnistLab(args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: "utf8" });
  assert.equal(result.status, 0, `mnist-lab ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Expected ${what} within ${timeoutMs / 1000} s but it did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A run's history without its timings, and its per-step log: what must not depend on where it trained. */
function runRecord(runDir: string): { history: string; steps: string } {
  const [header, ...rows] = fs.readFileSync(path.join(runDir, "history.csv"), "utf8").trim().split("\n");
  const keep = header.split(",").map((name) => name !== "epoch_seconds");
  const pick = (line: string) =>
    line
      .split(",")
      .filter((_, i) => keep[i])
      .join(",");
  return { history: [header, ...rows].map(pick).join("\n"), steps: fs.readFileSync(path.join(runDir, "steps.csv"), "utf8") };
}

function runIds(runsDir: string): string[] {
  return fs.readdirSync(runsDir).filter((name) => fs.existsSync(path.join(runsDir, name, "config.json")));
}

test(
  "a sweep on Slurm: one task per missing run, preempted and cancelled tasks resume, results equal a local sweep's",
  {
    timeout: 15 * 60_000,
  },
  async (t) => {
    const missing = slurmMissing();
    assert.equal(missing, undefined, `a real Slurm cluster is needed: ${missing}`);
    const cluster: SlurmCluster = await startSlurmCluster();
    t.after(() => cluster.stop());
    // The same threads on both sides: a reduction split over another number of threads sums in another order.
    const env = { ...cluster.env, OMP_NUM_THREADS: String(cluster.cpus) };
    const localRuns = tempDir("mnist-lab-sweep-local-");
    const clusterRuns = tempDir("mnist-lab-sweep-cluster-");
    mnistLab([...SWEEP, "--runs-dir", localRuns], env);

    const dry = mnistLab([...SWEEP, "--runs-dir", clusterRuns, "--slurm", "--time", "00:30:00", "--dry-run"], env);
    assert.match(dry, /#SBATCH --array=0-3\n/);
    assert.match(dry, /#SBATCH --signal=B:USR2@\d+\n/);
    assert.match(dry, /#SBATCH --requeue\n/);
    assert.deepEqual(fs.readdirSync(clusterRuns), [], "a dry run writes nothing");

    const submit = ["--runs-dir", clusterRuns, "--slurm", "--cpus-per-task", String(cluster.cpus), "--time", "00:30:00"];
    const submitted = mnistLab([...SWEEP, ...submit], env);
    const jobId = /Submitted job array (\d+): 4 tasks/.exec(submitted)?.[1];
    assert.ok(jobId, submitted);
    const slurm = (command: string, args: string[]) => execFileSync(command, args, { env, encoding: "utf8" });
    // Task 3 waits behind the others (each asks for every CPU): cancelled before it starts, it fails without a run.
    slurm("scancel", [`${jobId}_3`]);
    const planDir = path.join(clusterRuns, ".slurm", fs.readdirSync(path.join(clusterRuns, ".slurm"))[0]);
    const log0 = path.join(planDir, "logs", `${jobId}_0.out`);
    await until(
      "task 0 to start its second epoch",
      () => (fs.existsSync(log0) && /Epoch 2\/2/.test(fs.readFileSync(log0, "utf8")) ? true : undefined),
      180_000,
    );
    // What Slurm sends before the time limit (--signal=B:USR2): the task saves, requeues itself and exits.
    // scancel --signal exits non-zero on this Slurm even when the signal arrives: the task's log is the evidence.
    spawnSync("scancel", ["--signal=USR2", "--batch", `${jobId}_0`], { env });
    await until(
      "task 0 to receive USR2",
      () => (/SIGUSR2: the time limit is near/.test(fs.readFileSync(log0, "utf8")) ? true : undefined),
      30_000,
    );
    await until(
      "task 0 to be requeued",
      () => (/PENDING/.test(slurm("scontrol", ["show", "job", `${jobId}_0`])) ? true : undefined),
      60_000,
    );
    // Slurm holds a requeued task back for a while; the test need not wait for it.
    slurm("scontrol", ["update", `JobId=${jobId}_0`, "StartTime=now"]);

    const status = await until(
      "tasks 0–2 to finish",
      () => {
        const out = mnistLab(["sweep-status", "--runs-dir", clusterRuns], env);
        return /^3 done, 1 failed$/m.test(out) ? out : undefined;
      },
      600_000,
    );
    assert.match(status, /^Failed: adam seed 2 \(run adam-e2-[^)]*\); no log \(it never started/m);
    const first = fs.readFileSync(log0, "utf8");
    assert.match(first, /SIGUSR2: the time limit is near/);
    assert.match(first, /requeueing this task/);
    assert.match(first, /\(restart 1\)/);
    assert.match(first, /Resuming run rmsprop-e2-\S+ after epoch 1\/2/);

    // Resubmitting asks only for what is missing.
    const again = mnistLab([...SWEEP, ...submit], env);
    const secondJob = /Submitted job array (\d+): 1 tasks/.exec(again)?.[1];
    assert.ok(secondJob, again);
    await until(
      "the resubmitted task to finish",
      () => (/^5 done$/m.test(mnistLab(["sweep-status", "--runs-dir", clusterRuns], env)) ? true : undefined),
      300_000,
    );
    assert.match(mnistLab([...SWEEP, ...submit], env), /nothing to submit/);

    const ids = runIds(localRuns).sort();
    assert.equal(ids.length, 4);
    assert.deepEqual(runIds(clusterRuns).sort(), ids);
    for (const id of ids) assert.deepEqual(runRecord(path.join(clusterRuns, id)), runRecord(path.join(localRuns, id)), id);
  },
);
