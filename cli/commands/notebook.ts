import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { jupyterEnv, projectRoot } from "../../lib";

/** `mnist-lab notebook`: Jupyter on localhost (token authentication on) with the project's kernel. */
export function registerNotebookCommand(program: Command): void {
  program
    .command("notebook")
    .description("start Jupyter on localhost with the project's TypeScript kernel")
    .option("--port <port>", "port", "8888")
    .option("--browser", "open a browser")
    .action(async (opts: { port: string; browser?: boolean }) => {
      const args = [
        "notebook", "--ip=127.0.0.1", `--port=${opts.port}`,
        `--notebook-dir=${path.join(projectRoot(), "notebooks")}`,
        "--MappingKernelManager.default_kernel_name=mnist-lab",
        ...(opts.browser ? [] : ["--no-browser"]),
        // Jupyter refuses to start as root without this (containers and CI run as root).
        ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ];
      await new Promise<void>((resolve, reject) => {
        // Debian's Jupyter, which set-up installs (a pyenv or venv earlier on PATH may have none).
        const jupyter = fs.existsSync("/usr/bin/jupyter") ? "/usr/bin/jupyter" : "jupyter";
        const child = spawn(jupyter, args, { env: jupyterEnv(), stdio: "inherit" });
        child.on("error", (err) => reject(new Error(`Expected to start jupyter but could not: ${err.message}; run \`npm run setup\``)));
        child.on("close", () => resolve());
      });
    });
}
