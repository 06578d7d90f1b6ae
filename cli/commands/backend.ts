import type { Command } from "commander";
import { BACKEND_CHAIN, formatBackendReport, initBackend } from "../../lib";
import { UsageError } from "../main";

/** `mnist-lab backend [--json]`: which tfjs backend is active and why each other candidate is not. */
export function registerBackendCommand(program: Command): void {
  program
    .command("backend")
    .description("show the active tfjs backend and why each other candidate is not used")
    .option("--json", "print one JSON object")
    .option("--backend <name>", `tfjs backend: auto, ${BACKEND_CHAIN.join(", ")} (default: $MNIST_BACKEND, else the first that loads)`)
    .action(async (opts: { json?: boolean; backend?: string }) => {
      if (opts.backend !== undefined && opts.backend !== "auto" && !(BACKEND_CHAIN as readonly string[]).includes(opts.backend)) {
        throw new UsageError(`Expected --backend to be one of auto, ${BACKEND_CHAIN.join(", ")} but found ${JSON.stringify(opts.backend)}`);
      }
      const report = await initBackend(opts.backend);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatBackendReport(report)}\n`);
    });
}
