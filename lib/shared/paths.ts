import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The repository root: the nearest directory above this module with our package.json (works from lib/ and dist/lib/). */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "mnist-lab") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Expected a mnist-lab package.json above ${__dirname} but found none`);
    dir = parent;
  }
}

// The one rule for where things live, used by the library, the CLI and the notebooks alike: under the project
// root, never the current directory, so `train` in one folder and `report` in another find the same runs.
// Tests point MNIST_LAB_RUNS_DIR at a temporary folder. A relative value is taken from the project root too: each
// process has its own working directory (the CLI's is where it was started, a notebook kernel's is notebooks/).

/**
 * A directory or file a user typed, made absolute: `~` and `~/…` are the home directory (no shell expands them in
 * a notebook's string or an environment variable), and a relative path is taken from the project root, by the rule
 * above. The CLI resolves its flags against the shell's directory before they get here.
 * @example
 * resolveUserPath("~/Downloads/mnist"); // "/home/me/Downloads/mnist"
 */
export function resolveUserPath(p: string): string {
  const home = p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
  return path.resolve(projectRoot(), home);
}

/** `$name` resolved against the project root when set, else `fallback` under it. */
function projectPath(name: string, fallback: string): string {
  return path.resolve(projectRoot(), process.env[name] || fallback);
}

/** Where training runs live: `$MNIST_LAB_RUNS_DIR` (relative to the project root) when set, else `runs/` there (not in git). */
export function defaultRunsDir(): string {
  return projectPath("MNIST_LAB_RUNS_DIR", "runs");
}

/** Where finished full-profile runs are summarised: `$MNIST_LAB_RESULTS_DIR` when set, else `results/` at the project root (committed). */
export function defaultResultsDir(): string {
  return projectPath("MNIST_LAB_RESULTS_DIR", "results");
}

/** Where the forensic studies' summaries are committed: `forensics/<study>/<run-id>/` at the project root. */
export function defaultForensicsDir(): string {
  return projectPath("MNIST_LAB_FORENSICS_DIR", "forensics");
}

/** Where `report` writes the HTML report: `reports/` at the project root (not in git). */
export function defaultReportsDir(): string {
  return path.join(projectRoot(), "reports");
}
