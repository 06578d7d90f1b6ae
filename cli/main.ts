import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands";

/** Runs the CLI and resolves to the process exit code; a usage error is 2, a failure 1. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const program = new Command()
    .name("mnist-lab")
    .description("MNIST CNN lab: data, training, evaluation and report, over the same lib/ as the notebooks")
    .option("--debug", "print stack traces of errors")
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message; help and version exit 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

/** A bad command-line value: printed as one line, exit code 2. */
export class UsageError extends Error {}
