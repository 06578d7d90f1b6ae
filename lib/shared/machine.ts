import * as fs from "node:fs";
import * as os from "node:os";

/** The CPU a figure came from: kernels, speed and a seed's exact result differ per ISA, so every result names it. */
export interface MachineInfo {
  /** `model name` from /proc/cpuinfo, with the family/model that tell AMD Zen generations apart. */
  cpu: string;
  /** The widest vector ISA the CPU offers: avx512, avx2 or sse4.1. */
  isa: "avx512" | "avx2" | "sse4.1" | "unknown";
  cores: number;
}

/** A machine that trained part of a run: from which epoch, and on how many threads its kernels ran (onednn only). */
export interface RunMachine extends MachineInfo {
  fromEpoch: number;
  /** Absent when the backend does not say (not onednn) and in runs recorded before threads were. */
  threads?: number;
}

/** Reads the CPU's model and widest vector ISA (Linux; elsewhere what `os.cpus()` says). */
export function machineInfo(): MachineInfo {
  let text = "";
  try {
    text = fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    // not Linux: fall back to os.cpus() below
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(text)?.[1]?.trim();
  const flags = new Set((field("flags") ?? "").split(/\s+/));
  const isa = flags.has("avx512f") ? "avx512" : flags.has("avx2") ? "avx2" : flags.has("sse4_1") ? "sse4.1" : "unknown";
  const family = field("cpu family");
  const model = field("model");
  const name = field("model name") ?? os.cpus()[0]?.model ?? "unknown CPU";
  return {
    cpu: family !== undefined && model !== undefined ? `${name} (family ${family}, model ${model})` : name,
    isa,
    cores: os.cpus().length,
  };
}
