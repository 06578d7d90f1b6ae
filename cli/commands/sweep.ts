import * as fs from "node:fs";
import type { Command } from "commander";
import {
  PROFILES,
  RunBusyError,
  REPORT_OPTIMIZERS,
  SCHEDULES,
  defaultResultsDir,
  defaultRunsDir,
  exportRunResult,
  initBackend,
  loadMnist,
  profileTrainConfig,
  trainRun,
  type ReportOptimizer,
  type RunResult,
} from "../../lib";
import { UsageError, choiceOption, writableDirOption } from "../options";

function parseList(flag: string, value: string, ok: (item: string) => boolean, expected: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  const bad = items.find((item) => !ok(item));
  if (bad !== undefined)
    throw new UsageError(`Expected --${flag} to be a comma-separated list of ${expected} but found ${JSON.stringify(bad)}`);
  return items;
}

/** `mnist-lab sweep`: the missing runs of optimizers × seeds, one after another (each resumable like `train`), then a table. */
export function registerSweepCommand(program: Command): void {
  program
    .command("sweep")
    .description("train every missing run of optimizers × seeds under a profile, one at a time (resumable), then print a table")
    .option("--optimizer <list>", "comma-separated optimizers", "rmsprop,adam")
    .option("--seeds <list>", "comma-separated seeds", "1,2,3")
    .option("--schedule <name>", `${SCHEDULES.join(" or ")}`, "as-run")
    .option("--profile <name>", `${PROFILES.join(", ")}`, "full")
    .option("--runs-dir <dir>", "where run directories go (default: $MNIST_LAB_RUNS_DIR, else runs/ in the project)")
    .option("--results-dir <dir>", "where finished full-profile runs are summarised (default: results/ in the project)")
    .action(
      async (opts: { optimizer: string; seeds: string; schedule: string; profile: string; runsDir?: string; resultsDir?: string }) => {
        const optimizers = parseList(
          "optimizer",
          opts.optimizer,
          (o) => (REPORT_OPTIMIZERS as readonly string[]).includes(o),
          '"rmsprop" and "adam"',
        ) as ReportOptimizer[];
        const seeds = parseList("seeds", opts.seeds, (s) => /^\d+$/.test(s) && Number.isSafeInteger(Number(s)), "integers ≥ 0").map(Number);
        const schedule = choiceOption("--schedule", opts.schedule, SCHEDULES);
        const profile = choiceOption("--profile", opts.profile, PROFILES);
        // Checked before hours of training, not when the first run ends.
        const runsDir = writableDirOption(
          opts.runsDir !== undefined ? "--runs-dir" : "the runs directory",
          opts.runsDir ?? defaultRunsDir(),
        );
        // Only the full profile's runs become results: smaller sweeps neither need nor create the folder.
        const resultsDir =
          profile === "full"
            ? writableDirOption(
                opts.resultsDir !== undefined ? "--results-dir" : "the results directory",
                opts.resultsDir ?? defaultResultsDir(),
              )
            : undefined;
        // Exporting result <id> replaces results/<id>: were that the runs directory, it would replace the run itself.
        if (resultsDir !== undefined && fs.realpathSync(runsDir) === fs.realpathSync(resultsDir)) {
          throw new UsageError(
            `Expected the results directory to be apart from the runs directory but both are ${fs.realpathSync(runsDir)}; ` +
              "pass --results-dir or --runs-dir elsewhere",
          );
        }
        const backend = await initBackend();
        process.stdout.write(`Backend: ${backend.active}; ${seeds.length * optimizers.length} runs (${profile}, ${schedule})\n`);
        const data = await loadMnist();
        const rows: string[] = [];
        const busy: string[] = [];
        for (const seed of seeds) {
          for (const optimizer of optimizers) {
            const config = profileTrainConfig(profile, optimizer, { seed, schedule });
            let run: RunResult;
            try {
              run = await trainRun(config, { data, runsDir, loadModel: profile === "full" });
            } catch (err) {
              // Another sweep (or a notebook) holds this run: leave it to that process and go on with the free ones.
              if (!(err instanceof RunBusyError)) throw err;
              process.stdout.write(`${err.message}: moving on\n`);
              busy.push(`${optimizer} seed ${seed}`);
              continue;
            }
            if (run.model && resultsDir !== undefined) {
              try {
                const dir = await exportRunResult(run, run.model, data.test, resultsDir);
                process.stdout.write(`Result written to ${dir}\n`);
              } finally {
                run.model.dispose();
              }
            }
            const m = run.metrics;
            rows.push(
              [
                optimizer,
                seed,
                m.valAccuracy.toFixed(4),
                m.bestValAccuracy.toFixed(4),
                m.bestEpoch,
                m.secondsPerEpoch.toFixed(0),
                run.status,
                run.runId,
              ].join("\t"),
            );
          }
        }
        process.stdout.write(
          `\n${["optimizer", "seed", "val_acc", "best", "best_epoch", "s/epoch", "status", "run"].join("\t")}\n${rows.join("\n")}\n`,
        );
        if (busy.length > 0) process.stdout.write(`Held by other processes, not trained here: ${busy.join(", ")}\n`);
      },
    );
}
