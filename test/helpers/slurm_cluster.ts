import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

// A real single-node Slurm cluster for one test file: munged, slurmctld -D and slurmd -D, started as root
// without systemd, with every file (config, state, spool, munge socket) in a temporary directory and ports
// nobody uses, so it never meets a cluster the machine may already run. Set-up installs slurm-wlm and munge.

export interface SlurmCluster {
  /** Environment for sbatch, squeue, scontrol and our CLI: SLURM_CONF points at this cluster. */
  env: NodeJS.ProcessEnv;
  cpus: number;
  dir: string;
  stop(): Promise<void>;
}

const DAEMONS = ["munged", "slurmctld", "slurmd"];

/** Why a cluster cannot start here, or undefined when it can. */
export function slurmMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "the single-node cluster runs its daemons as root, and this test is not root";
  for (const daemon of [...DAEMONS, "sbatch", "squeue", "scontrol"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${daemon}`], { stdio: "ignore" });
    } catch {
      return `${daemon} is not installed (scripts/setup.sh installs slurm-wlm and munge)`;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Expected ${what} within ${timeoutMs / 1000} s but it did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Starts the cluster and waits until its node is idle. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-slurm-"));
  for (const sub of ["state", "spool", "munge", "log"]) fs.mkdirSync(path.join(dir, sub));
  fs.chmodSync(path.join(dir, "munge"), 0o700);
  const host = os.hostname().split(".")[0];
  const cpus = os.cpus().length;
  const memoryMb = Math.floor((os.totalmem() / 2 ** 20) * 0.8);
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const socket = path.join(dir, "munge", "munge.socket");
  const conf = path.join(dir, "slurm.conf");
  fs.writeFileSync(
    conf,
    [
      "ClusterName=mnistlabtest",
      `SlurmctldHost=${host}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      // No cgroups or systemd here: plain process tracking, no task binding.
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "MinJobAge=3600",
      "ReturnToService=2",
      "MpiDefault=none",
      `NodeName=${host} CPUs=${cpus} RealMemory=${memoryMb} State=UNKNOWN`,
      "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const start = (command: string, args: string[]) => {
    const log = fs.openSync(path.join(dir, "log", `${command}.log`), "a");
    const child = spawn(command, args, { env, stdio: ["ignore", log, log] });
    children.push(child);
    return child;
  };
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    start("munged", [
      "--foreground",
      "--force",
      `--socket=${socket}`,
      `--pid-file=${dir}/munge/munged.pid`,
      `--seed-file=${dir}/munge/seed`,
    ]);
    await waitFor("munged's socket", () => fs.existsSync(socket), 15_000);
    start("slurmctld", ["-D", "-f", conf]);
    start("slurmd", ["-D", "-f", conf]);
    await waitFor(
      "the Slurm node to be idle",
      () => {
        try {
          return /idle/.test(execFileSync("sinfo", ["-h", "-o", "%T"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
        } catch {
          return false;
        }
      },
      60_000,
    );
  } catch (err) {
    const logs = DAEMONS.map((d) => path.join(dir, "log", `${d}.log`))
      .filter((f) => fs.existsSync(f))
      .map((f) => `${path.basename(f)}: ${fs.readFileSync(f, "utf8").trim().split("\n").slice(-5).join(" | ")}`);
    await stop();
    throw new Error(`${(err as Error).message}; ${logs.join("; ")}`, { cause: err });
  }
  return { env, cpus, dir, stop };
}
