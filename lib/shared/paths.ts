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

/**
 * Where runs live, for the library, the CLI and the notebooks alike: `$MNIST_LAB_RUNS_DIR` when set,
 * else `runs/` at the project root (never the current directory, so every tool finds the same runs).
 */
export function defaultRunsDir(): string {
  return path.resolve(process.env.MNIST_LAB_RUNS_DIR || path.join(projectRoot(), "runs"));
}
