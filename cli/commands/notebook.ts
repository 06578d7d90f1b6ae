import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { MnistLabError, jupyterEnv, nbtoolCommand, projectRoot } from "../../lib";
import { integerOption } from "../options";

/**
 * `mnist-lab notebook`: Jupyter on localhost (token authentication on) with the project's kernel. Jupyter
 * stops with this command however it ends (Ctrl-C, kill, even kill -9), and its kernels with it.
 */
export function registerNotebookCommand(program: Command): void {
  program
    .command("notebook")
    .description("start Jupyter on localhost with the project's TypeScript kernel")
    .option("--port <port>", "port", "8888")
    .option("--browser", "open a browser")
    .action(async (opts: { port: string; browser?: boolean }, command: Command) => {
      const port = integerOption("--port", opts.port, 1, 65535);
      // Debian's Jupyter, which set-up installs (a pyenv or venv earlier on PATH may have none).
      const jupyter = fs.existsSync("/usr/bin/jupyter") ? "/usr/bin/jupyter" : "jupyter";
      const args = [
        "notebook",
        "--ip=127.0.0.1",
        `--port=${port}`,
        `--notebook-dir=${path.join(projectRoot(), "notebooks")}`,
        "--MappingKernelManager.default_kernel_name=mnist-lab",
        ...(opts.browser ? [] : ["--no-browser"]),
        // Jupyter refuses to start as root without this (containers and CI run as root).
        ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ];
      const env = {
        ...jupyterEnv(),
        MNIST_LAB_PARENT_PID: String(process.pid),
        ...(command.optsWithGlobals().debug ? { MNIST_LAB_DEBUG: "1" } : {}),
      };
      // nbtool serve asks Linux to stop Jupyter when this process dies, then becomes Jupyter (exec).
      const { python, script } = nbtoolCommand();
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(python, [script, "serve", jupyter, ...args], { env, stdio: "inherit" });
        // Ctrl-C reaches Jupyter from the terminal too; a kill aimed at this process alone is passed on.
        const forward = (signal: NodeJS.Signals) => child.kill(signal === "SIGINT" ? "SIGTERM" : signal);
        const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
        for (const s of signals) process.on(s, forward);
        const done = () => signals.forEach((s) => process.off(s, forward));
        child.on("error", (err) => {
          done();
          reject(new MnistLabError(`Expected to start ${jupyter} but could not: ${err.message}; run \`npm run setup\``));
        });
        child.on("close", (exitCode, signal) => {
          done();
          resolve(exitCode ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1));
        });
      });
      if (code !== 0)
        throw new MnistLabError(`Expected Jupyter to serve on 127.0.0.1:${port} but it exited with code ${code}; its messages are above`);
    });
}
