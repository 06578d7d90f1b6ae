import { spawn, type ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { MnistLabError, fsErrorCode } from "./errors";

// Child processes tied to this one (the notebook tool and its kernels): they stop when this process stops, by a
// signal or otherwise, and clean-ups registered for a signal run before it ends the process. The one liveness
// check of another process by pid lives here too.

/** Whether a process with this pid exists (EPERM: it exists but is another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return fsErrorCode(err) === "EPERM";
  }
}

/** Children that must stop with this process, and clean-ups to run if a signal ends it first. */
const tiedChildren = new Set<ChildProcess>();
const signalCleanups = new Set<() => void>();
const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function onStopSignal(signal: NodeJS.Signals): void {
  for (const child of tiedChildren) child.kill("SIGTERM");
  for (const cleanup of signalCleanups) {
    try {
      cleanup();
    } catch {
      /* best effort: the process is going down */
    }
  }
  tiedChildren.clear();
  signalCleanups.clear();
  updateSignalHandlers();
  // Listening replaced the default action (exit); take it again unless the host has handlers of its own.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function updateSignalHandlers(): void {
  const wanted = tiedChildren.size + signalCleanups.size > 0;
  for (const signal of STOP_SIGNALS) {
    const has = process.listeners(signal).includes(onStopSignal);
    if (wanted && !has) process.on(signal, onStopSignal);
    if (!wanted && has) process.off(signal, onStopSignal);
  }
}

/** Runs `cleanup` if SIGINT, SIGTERM or SIGHUP ends this process while `work` runs. */
export async function cleanUpOnSignal<T>(cleanup: () => void, work: () => Promise<T>): Promise<T> {
  signalCleanups.add(cleanup);
  updateSignalHandlers();
  try {
    return await work();
  } finally {
    signalCleanups.delete(cleanup);
    updateSignalHandlers();
  }
}

/**
 * Runs a child that stops with this process: on SIGINT/SIGTERM/SIGHUP here it gets SIGTERM, and when this
 * process dies any other way (SIGKILL too) Linux sends it SIGTERM (nbtool asks for PR_SET_PDEATHSIG,
 * checking it against MNIST_LAB_PARENT_PID).
 */
export function runTied(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...env, MNIST_LAB_PARENT_PID: String(process.pid) }, stdio: ["ignore", "pipe", "pipe"] });
    tiedChildren.add(child);
    updateSignalHandlers();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const done = () => {
      tiedChildren.delete(child);
      updateSignalHandlers();
    };
    child.on("error", (err) => {
      done();
      reject(new MnistLabError(`Expected to run ${cmd} but could not: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      done();
      resolve({ code: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1), stdout, stderr });
    });
  });
}

/** The last non-empty line a tool printed to stderr: what a one-line error quotes of it. */
export function lastLine(stderr: string): string {
  return (
    stderr
      .trim()
      .split("\n")
      .filter((l) => l.trim())
      .pop() ?? "no output"
  );
}
