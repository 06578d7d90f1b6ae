import * as path from "node:path";
import type { Command } from "commander";
import { PROFILES, buildReport, type Profile } from "../../lib";
import { UsageError } from "../main";

/** `mnist-lab report`: execute the notebooks with a profile and export them to HTML. */
export function registerReportCommand(program: Command): void {
  program
    .command("report")
    .description("execute the notebooks in order with a profile's parameters and write one offline HTML report")
    .option("--profile <name>", `smoke (seconds), quick (minutes) or full (the report's 40 epochs)`, "quick")
    .option("--out <dir>", "output directory", "reports")
    .option("--only <names...>", "only these notebooks, e.g. 00 or 00_data")
    .option("--seed <n>", "seed injected into every notebook", "42")
    .action(async (opts: { profile: string; out: string; only?: string[]; seed: string }) => {
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`Expected --seed to be an integer ≥ 0 but found ${JSON.stringify(opts.seed)}`);
      if (!PROFILES.includes(opts.profile as Profile)) {
        throw new UsageError(`Expected --profile ${PROFILES.join(", ")} but found ${JSON.stringify(opts.profile)}`);
      }
      const result = await buildReport({
        profile: opts.profile as Profile,
        outDir: opts.out,
        only: opts.only,
        seed,
        onProgress: (e) =>
          process.stderr.write(e.phase === "start" ? `running ${e.notebook} …\n` : `  ${e.notebook} done in ${e.seconds!.toFixed(1)} s\n`),
      });
      process.stdout.write(`${path.join(result.outDir, result.report)}\n`);
      process.stderr.write(`report (${result.profile}) written in ${result.seconds.toFixed(1)} s; notebooks in ${path.join(result.outDir, "notebooks")}\n`);
    });
}
