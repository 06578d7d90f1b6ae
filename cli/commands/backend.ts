import type { Command } from "commander";
import { formatBackendDiagnostics, initBackend } from "../../lib";
import { BACKEND_CHOICES, BACKEND_HELP, choiceOption } from "../options";

/** `mnist-lab backend [--json]`: which tfjs backend is active and why each other candidate is not. */
export function registerBackendCommand(program: Command): void {
  program
    .command("backend")
    .description("show the active tfjs backend and why each other candidate is not used")
    .option("--json", "print one JSON object")
    .option("--backend <name>", BACKEND_HELP)
    .action(async (opts: { json?: boolean; backend?: string }) => {
      if (opts.backend !== undefined) choiceOption("--backend", opts.backend, BACKEND_CHOICES);
      const diagnostics = await initBackend(opts.backend);
      process.stdout.write(opts.json ? `${JSON.stringify(diagnostics)}\n` : `${formatBackendDiagnostics(diagnostics)}\n`);
    });
}
