import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import {
  CHECKSUMS_FILE,
  FORENSIC_STUDIES,
  defaultForensicsDir,
  defaultResultsDir,
  fittedHeadStart,
  paddingFinalists,
  forensicVerdicts,
  listRunResults,
  defaultRunsDir,
  exportRunResult,
  initBackend,
  MnistLabError,
  RunBusyError,
  loadMnist,
  resolveTrainConfig,
  runIdFor,
  studyRuns,
  trainRun,
  type RunResult,
} from "../../lib";
import { choiceOption, integerOption, writableDirOption } from "../options";
import { terminalTraining } from "../terminal_output";

/** `mnist-lab forensics <study>`: trains a forensic study's runs (each resumable) and exports their summaries. */
export function registerForensicsCommand(program: Command): void {
  program
    .command("forensics")
    .description(`train a forensic study's runs (${FORENSIC_STUDIES.join(", ")}), resumable, and write forensics/<study>/`)
    .argument("<study>", `${FORENSIC_STUDIES.join(", ")}, or summary (print every verdict of 06_forensics from the committed summaries)`)
    .option("--runs-dir <dir>", "where run directories go (default: $MNIST_LAB_RUNS_DIR, else runs/ in the project)")
    .option("--out <dir>", "parent of the study's summaries (default: forensics/ in the project)")
    .option("--only <n>", "train only the first N runs of the study")
    .option("--results-dir <dir>", "the committed full-profile results: the seed-to-seed scale, and the recipe's own runs (summary)")
    .action(async (studyName: string, opts: { runsDir?: string; out?: string; only?: string; resultsDir?: string }) => {
      if (studyName === "summary") {
        await initBackend();
        const verdicts = forensicVerdicts(opts.out ?? defaultForensicsDir(), listRunResults(opts.resultsDir ?? defaultResultsDir()));
        for (const [section, lines] of Object.entries(verdicts))
          process.stdout.write(`${section}:\n${lines.map((l) => `- ${l}\n`).join("")}`);
        return;
      }
      const study = choiceOption("study", studyName, FORENSIC_STUDIES);
      const runsDir = writableDirOption(opts.runsDir !== undefined ? "--runs-dir" : "the runs directory", opts.runsDir ?? defaultRunsDir());
      const out = writableDirOption(opts.out !== undefined ? "--out" : "the forensics directory", opts.out ?? defaultForensicsDir());
      const results = () => listRunResults(opts.resultsDir ?? defaultResultsDir());
      const evidence = {
        headStartSteps: study === "reenact" || study === "reenact-recipe" ? fittedHeadStart(study, out, results()) : undefined,
        paddingFinalists: study === "padding-confirm" ? paddingFinalists(out, results()) : undefined,
      };
      const runs = studyRuns(study, evidence).slice(0, opts.only === undefined ? undefined : integerOption("--only", opts.only, 1));
      if (runs.length === 0)
        throw new MnistLabError(
          `Expected the ${study} study to have runs but found none: ` +
            (study === "reenact-recipe"
              ? "commit a full Adam run of the recipe to results/ first (`mnist-lab sweep --profile full`)"
              : `run \`mnist-lab forensics ${study === "reenact" ? "head-start" : "padding"}\` to the end first`),
        );
      const backend = await initBackend();
      process.stdout.write(`Backend: ${backend.active}; study ${study}: ${runs.length} runs\n`);
      const data = await loadMnist();
      for (const { label, config } of runs) {
        // A summary already exported (committed, or by an earlier invocation) needs no run: a clone rebuilds nothing.
        const exported = path.join(out, study, runIdFor(resolveTrainConfig(config)));
        if (fs.existsSync(path.join(exported, CHECKSUMS_FILE))) {
          process.stdout.write(`${study} · ${label}: summary already in ${exported}\n`);
          continue;
        }
        process.stdout.write(`${study} · ${label}\n`);
        let run: RunResult;
        try {
          run = await trainRun(config, { data, runsDir, loadModel: true, ...terminalTraining });
        } catch (err) {
          // Another process trains this one: go on with the runs nobody holds.
          if (!(err instanceof RunBusyError)) throw err;
          process.stdout.write(`${err.message}: moving on\n`);
          continue;
        }
        try {
          const dir = await exportRunResult(run, run.model!, data.test, path.join(out, study));
          process.stdout.write(`Summary written to ${dir}\n`);
        } finally {
          run.model?.dispose();
        }
      }
    });
}
