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
