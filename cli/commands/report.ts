import * as path from "node:path";
import type { Command } from "commander";
import {
  MnistLabError,
  PROFILES,
  SCHEDULES,
  buildHtmlReport,
  defaultReportsDir,
  listNotebooks,
  prepareReportDir,
  selectNotebooks,
} from "../../lib";
import { UsageError, choiceOption, integerOption } from "../options";

/** `mnist-lab report`: execute the notebooks with a profile and export them to HTML. */
export function registerReportCommand(program: Command): void {
  program
    .command("report")
    .description("execute the notebooks in order with a profile's parameters and write one offline HTML report")
    .option("--profile <name>", `smoke (seconds), quick (minutes) or full (the report's 40 epochs)`, "quick")
    .option("--out <dir>", "output directory (default: reports/ in the project)")
    .option("--only <names...>", "only these notebooks, e.g. 00 or 00_data: their own HTML is replaced, the combined report is kept")
    .option("--seed <n>", "seed injected into every notebook", "42")
    .option(
      "--schedule <name>",
      "learning-rate schedule of the runs 02_train trains and 03_evaluate reads: as-run or as-intended",
      "as-run",
    )
    .action(async (opts: { profile: string; out?: string; only?: string[]; seed: string; schedule: string }, command: Command) => {
      const seed = integerOption("--seed", opts.seed, 0);
      const schedule = choiceOption("--schedule", opts.schedule, SCHEDULES);
      const profile = choiceOption("--profile", opts.profile, PROFILES);
      if (opts.only) {
        try {
          selectNotebooks(listNotebooks(), opts.only);
        } catch (err) {
          if (err instanceof MnistLabError)
            throw new UsageError(err.message.replace(/^Expected notebooks among/, "Expected --only to name notebooks among"));
          throw err;
        }
      }
      // A folder the report cannot write in is a usage error (exit 2), found before any notebook runs.
      const outDirName = opts.out !== undefined ? "--out" : "the report folder";
      let outDir: string;
      try {
        outDir = prepareReportDir(opts.out ?? defaultReportsDir(), outDirName);
      } catch (err) {
        if (err instanceof MnistLabError) throw new UsageError(err.message);
        throw err;
      }
      const result = await buildHtmlReport({
        profile,
        outDir,
        outDirName,
        only: opts.only,
        seed,
        schedule,
        debug: Boolean(command.optsWithGlobals().debug),
        onProgress: (e) =>
          process.stderr.write(e.phase === "start" ? `running ${e.notebook} …\n` : `  ${e.notebook} done in ${e.seconds!.toFixed(1)} s\n`),
      });
      if (result.combined) {
        process.stdout.write(`${path.join(result.outDir, result.report)}\n`);
        process.stderr.write(
          `report (${result.profile}) written in ${result.seconds.toFixed(1)} s; notebooks in ${path.join(result.outDir, "notebooks")}\n`,
        );
      } else {
        for (const r of result.notebookResults) process.stdout.write(`${r.html}\n`);
        process.stderr.write(
          `${result.notebookResults.length} notebook(s) (${result.profile}) written in ${result.seconds.toFixed(1)} s; ` +
            `the combined report ${path.join(result.outDir, result.report)} was left as it was\n`,
        );
      }
    });
}
