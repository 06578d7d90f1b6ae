// Backend selection: tensorflow (tfjs-node) -> onednn (our addon) -> wasm -> cpu, overridable by argument or
// MNIST_BACKEND. Nothing is chosen on import; initBackend does it and reports why each other candidate lost.
import * as tf from "@tensorflow/tfjs-core";
import { loadNativeBinding, onednnIsaName } from "./native_binding";
import { ONEDNN_BACKEND_NAME } from "./onednn_backend";
import { registerOnednnBackend } from "./register_onednn";

export const BACKEND_CHAIN = ["tensorflow", "onednn", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_CHAIN)[number];

export interface BackendCandidate {
  name: BackendName;
  /** True for the backend now active. */
  active: boolean;
  /** Why it is active, or why it was not chosen (not installed, failed to load: its error, lower in the chain). */
  reason: string;
}

/** Which backend is active and why each other one is not, as `mnist-lab backend` prints it. */
export interface BackendDiagnostics {
  active: BackendName;
  /** The backend asked for by argument or MNIST_BACKEND, else null (automatic). */
  requested: BackendName | null;
  requestedBy: "argument" | "MNIST_BACKEND" | null;
  candidates: BackendCandidate[];
  /** oneDNN version, the ISA its kernels dispatch to, and threads when the onednn backend is active. */
  onednn?: { version: string; isa: string; threads: number; addonPath: string };
}

type Attempt = { ok: true; reason: string } | { ok: false; reason: string; solutions: string[] };

let warnedOnednn = false;

function isBackendName(name: string): name is BackendName {
  return (BACKEND_CHAIN as readonly string[]).includes(name);
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend("${name}") returned false`);
  await tf.ready();
}

/** A backend of an npm dependency: its package loaded (which registers it), then activated. */
async function tryJsBackend(name: BackendName, load: () => unknown, reason: string): Promise<Attempt> {
  try {
    load();
    await activate(name);
    return { ok: true, reason };
  } catch (err) {
    return { ok: false, reason: `failed to load: ${messageOf(err)}`, solutions: ["npm ci"] };
  }
}

async function tryBackend(name: BackendName): Promise<Attempt> {
  switch (name) {
    case "tensorflow": {
      let resolved: string;
      try {
        resolved = require.resolve("@tensorflow/tfjs-node");
      } catch {
        return {
          ok: false,
          reason: "not installed (@tensorflow/tfjs-node is an optional dependency)",
          solutions: ["npm install @tensorflow/tfjs-node (downloads libtensorflow)"],
        };
      }
      try {
        require(resolved);
        await activate("tensorflow");
        return { ok: true, reason: "@tensorflow/tfjs-node is installed (libtensorflow)" };
      } catch (err) {
        return { ok: false, reason: `failed to load: ${messageOf(err)}`, solutions: ["reinstall @tensorflow/tfjs-node"] };
      }
    }
    case "onednn": {
      const loaded = loadNativeBinding();
      const solutions = [
        "run `npm run setup` (builds native/ with node-gyp)",
        "apt-get install -y libdnnl-dev build-essential, then `npm run build:native`",
      ];
      if (!loaded.binding) return { ok: false, reason: loaded.error ?? "the addon did not load", solutions };
      try {
        registerOnednnBackend(loaded.binding);
        await activate(ONEDNN_BACKEND_NAME);
        const info = loaded.binding.info();
        return { ok: true, reason: `native addon over oneDNN ${info.onednnVersion}, ${info.threads} threads` };
      } catch (err) {
        return { ok: false, reason: `failed to start: ${messageOf(err)}`, solutions };
      }
    }
    case "wasm":
      return tryJsBackend(
        "wasm",
        () => require("@tensorflow/tfjs-backend-wasm"),
        "@tensorflow/tfjs-backend-wasm (single-threaded in Node, no Conv2DBackpropFilter)",
      );
    case "cpu":
      return tryJsBackend("cpu", () => require("@tensorflow/tfjs-backend-cpu"), "pure JS, always available (very slow for this model)");
  }
}

/** Whether a backend could load, without activating it: null if so, else why not. */
function whyUnavailable(name: BackendName): string | null {
  const resolves = (id: string) => {
    try {
      require.resolve(id);
      return true;
    } catch {
      return false;
    }
  };
  switch (name) {
    case "tensorflow":
      return resolves("@tensorflow/tfjs-node") ? null : "not installed (@tensorflow/tfjs-node is an optional dependency)";
    case "onednn":
      return loadNativeBinding().error;
    case "wasm":
      return resolves("@tensorflow/tfjs-backend-wasm") ? null : "not installed (@tensorflow/tfjs-backend-wasm)";
    case "cpu":
      return resolves("@tensorflow/tfjs-backend-cpu") ? null : "not installed (@tensorflow/tfjs-backend-cpu)";
  }
}

function notChosen(name: BackendName, because: string): string {
  const why = whyUnavailable(name);
  return why === null ? `available; not used: ${because}` : why;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Chooses and activates the tfjs backend: `preferred` (or MNIST_BACKEND) if given, which must then load,
 * else the first of tensorflow → onednn → wasm → cpu that loads.
 * @param preferred "tensorflow" | "onednn" | "wasm" | "cpu"; "auto" or undefined walks the chain.
 * @example
 * const diagnostics = await initBackend("cpu");
 * diagnostics.active; // "cpu"
 */
export async function initBackend(preferred?: string): Promise<BackendDiagnostics> {
  const fromEnv = process.env.MNIST_BACKEND;
  const raw = preferred ?? (fromEnv && fromEnv !== "" ? fromEnv : undefined);
  const requestedBy = preferred !== undefined ? "argument" : raw !== undefined ? "MNIST_BACKEND" : null;
  const wanted = raw === undefined || raw === "auto" ? null : raw;
  if (wanted !== null && !isBackendName(wanted)) {
    const source = requestedBy === "argument" ? "the backend option" : "MNIST_BACKEND";
    throw new Error(`Expected a backend among auto, ${BACKEND_CHAIN.join(", ")} for ${source} but found ${JSON.stringify(wanted)}`);
  }
  const candidates: BackendCandidate[] = [];
  let active: BackendName | null = null;
  if (wanted !== null) {
    const attempt = await tryBackend(wanted);
    if (!attempt.ok) {
      throw new Error(
        `The ${wanted} backend was requested (${requestedBy === "argument" ? "by argument" : "by MNIST_BACKEND"}) ` +
          `but ${attempt.reason}.\n` +
          `Possible solutions:\n${attempt.solutions.map((s) => `- ${s}`).join("\n")}`,
      );
    }
    active = wanted;
    for (const name of BACKEND_CHAIN) {
      candidates.push(
        name === wanted
          ? {
              name,
              active: true,
              reason: `requested ${requestedBy === "argument" ? "by argument" : "by MNIST_BACKEND"}: ${attempt.reason}`,
            }
          : { name, active: false, reason: notChosen(name, `${wanted} was requested`) },
      );
    }
  } else {
    for (const name of BACKEND_CHAIN) {
      if (active !== null) {
        candidates.push({ name, active: false, reason: notChosen(name, `${active} comes first in the chain`) });
        continue;
      }
      const attempt = await tryBackend(name);
      if (attempt.ok) active = name;
      else if (name === "onednn" && !warnedOnednn) {
        warnedOnednn = true;
        process.emitWarning(
          `mnist-lab: the onednn backend is unavailable (${attempt.reason}); falling back. Fix: ${attempt.solutions.join("; or ")}`,
        );
      }
      candidates.push({ name, active: attempt.ok, reason: attempt.reason });
    }
    if (active === null)
      throw new Error(`No tfjs backend could be loaded:\n${candidates.map((c) => `- ${c.name}: ${c.reason}`).join("\n")}`);
  }
  const diagnostics: BackendDiagnostics = {
    active,
    requested: wanted as BackendName | null,
    requestedBy: wanted === null ? null : requestedBy,
    candidates,
  };
  if (active === "onednn") {
    const loaded = loadNativeBinding();
    const info = loaded.binding!.info();
    diagnostics.onednn = { version: info.onednnVersion, isa: onednnIsaName(info.isa), threads: info.threads, addonPath: loaded.path };
  }
  return diagnostics;
}

/** How many threads the active backend's kernels run on, where it says: onednn's OpenMP pool; undefined otherwise. */
export function backendThreads(active: string): number | undefined {
  return active === "onednn" ? loadNativeBinding().binding?.info().threads : undefined;
}

/** The diagnostics as lines for a terminal: the active backend first, then why each other one is not used. */
export function formatBackendDiagnostics(diagnostics: BackendDiagnostics): string {
  const lines = [`active backend: ${diagnostics.active}`];
  for (const c of diagnostics.candidates) lines.push(`  ${c.active ? "*" : " "} ${c.name.padEnd(10)} ${c.reason}`);
  return lines.join("\n");
}
