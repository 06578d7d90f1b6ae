import * as fs from "node:fs";
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
// Tests point MNIST_LAB_RUNS_DIR at a temporary folder.

/** Where training runs live: `$MNIST_LAB_RUNS_DIR` when set, else `runs/` at the project root (not in git). */
export function defaultRunsDir(): string {
  return path.resolve(process.env.MNIST_LAB_RUNS_DIR || path.join(projectRoot(), "runs"));
}

/** Where finished full-profile runs are summarised: `$MNIST_LAB_RESULTS_DIR` when set, else `results/` at the project root (committed). */
export function defaultResultsDir(): string {
  return path.resolve(process.env.MNIST_LAB_RESULTS_DIR || path.join(projectRoot(), "results"));
}

/** Where the forensic studies' summaries are committed: `forensics/<study>/<run-id>/` at the project root. */
export function defaultForensicsDir(): string {
  return path.resolve(process.env.MNIST_LAB_FORENSICS_DIR || path.join(projectRoot(), "forensics"));
}

/** Where `report` writes the HTML report: `reports/` at the project root (not in git). */
export function defaultReportsDir(): string {
  return path.join(projectRoot(), "reports");
}
