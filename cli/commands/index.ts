import type { Command } from "commander";
import { registerBackendCommand } from "./backend";
import { registerBenchCommand } from "./bench";
import { registerDataCommand } from "./data";
import { registerForensicsCommand } from "./forensics";
import { registerNotebookCommand } from "./notebook";
import { registerReportCommand } from "./report";
import { registerResultsCommand } from "./results";
import { registerSweepCommand } from "./sweep";
import { registerTrainCommand } from "./train";

/** The one list of subcommands. */
export function registerCommands(program: Command): void {
  registerBackendCommand(program);
  registerBenchCommand(program);
  registerDataCommand(program);
  registerForensicsCommand(program);
  registerNotebookCommand(program);
  registerReportCommand(program);
  registerResultsCommand(program);
  registerSweepCommand(program);
  registerTrainCommand(program);
}
