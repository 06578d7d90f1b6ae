import { Command, CommanderError } from "commander";
import { TrainingInterrupted } from "../lib";
import { registerCommands } from "./commands";
import { UsageError } from "./options";

/** How each kind of ending exits; printed by --help. */
const EXIT_CODES_HELP =
  "\nExit codes: 0 done, 1 failed (data, training, disk), 2 bad command line (unknown option, bad value, missing path),\n" +
  "130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM: the saved epochs stay and the same command resumes.";

/**
 * Commander's errors as one line plus where help is (not the whole help after every typo):
 * `error: unknown option '--optimiser' (Did you mean --optimizer?); see mnist-lab train --help`.
 */
function oneLineErrors(command: Command, name: string): void {
  command.configureOutput({
    outputError: (message, write) =>
      write(
        `${message
          .trim()
          .split(/\s*\n\s*/)
          .join(" ")}; see ${name} --help\n`,
      ),
  });
  for (const sub of command.commands) oneLineErrors(sub, `${name} ${sub.name()}`);
}

/** Runs the CLI and resolves to the process exit code; a usage error is 2, a failure 1. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const program = new Command()
    .name("mnist-lab")
    .description("MNIST CNN lab: data, training, evaluation and report, over the same lib/ as the notebooks")
    .option("--debug", "print stack traces of errors")
    .addHelpText("after", EXIT_CODES_HELP)
    .exitOverride();
  registerCommands(program);
  oneLineErrors(program, program.name());
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
    // As a shell reports a process a signal ended: 128 + the signal's number.
    if (err instanceof TrainingInterrupted && err.signal) return 128 + (err.signal === "SIGINT" ? 2 : 15);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
