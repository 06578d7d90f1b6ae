import type { Command } from "commander";
import { registerDataCommand } from "./data";

/** The one list of subcommands. */
export function registerCommands(program: Command): void {
  registerDataCommand(program);
}
