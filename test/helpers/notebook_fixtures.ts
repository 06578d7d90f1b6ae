import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "mnist-lab";
import { tempDir } from "./idx_fixtures";

/** A notebook of plain code cells for the project's kernel. */
export function writeNotebook(file: string, sources: string[]): void {
  const cell = (source: string, i: number) => ({
    cell_type: "code",
    execution_count: null,
    id: `c${i}`,
    metadata: {},
    outputs: [],
    source,
  });
  fs.writeFileSync(
    file,
    JSON.stringify({
      cells: sources.map(cell),
      metadata: { kernelspec: { name: "mnist-lab", display_name: "TypeScript (mnist-lab)", language: "typescript" } },
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
}

/**
 * A temp folder whose notebooks can `import * as lab from "mnist-lab"`: tslab resolves modules from the
 * kernel's working directory (the notebook's folder), so it gets a node_modules link to this package.
 */
export function labNotebookDir(): string {
  const dir = tempDir("mnist-lab-notebooks-");
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(projectRoot(), path.join(dir, "node_modules", "mnist-lab"));
  return dir;
}

/** The pids and command lines of every live descendant of `pid`, read from /proc. */
export function descendants(pid: number): { pid: number; command: string }[] {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command may hold spaces and parentheses: the ppid is the 2nd field after the last ")".
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      commands.set(Number(entry), fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim());
    } catch {
      /* exited while we looked */
    }
  }
  const found: { pid: number; command: string }[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push({ pid: child, command: commands.get(child) ?? "" });
        queue.push(child);
      }
    }
  }
  return found;
}

/** Whether a process is alive (not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Polls `check` every 100 ms until it is true or `timeoutMs` passed; returns its last value. */
export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
