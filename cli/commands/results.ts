import type { Command } from "commander";
import {
  confusedPairVerdicts,
  defaultResultsDir,
  earlyEpochComparison,
  frameMarkdown,
  listRunResults,
  optimizerComparison,
  recipeComparison,
  reproductionVerdicts,
  runResultsFrame,
  seedGroupFrame,
  partitionResults,
  seedGroups,
} from "../../lib";
import { existingDirOption } from "../options";

/**
 * `mnist-lab results`: what 04_reproduction computes from the committed full-profile runs, in seconds and as
 * Markdown, so README's reproduction table is printed by a command.
 */
export function registerResultsCommand(program: Command): void {
  program
    .command("results")
    .description("the committed full-profile runs over seeds: mean ± sd, per-run figures and 04_reproduction's verdicts")
    .option("--results-dir <dir>", "where finished full-profile runs are summarised (default: results/ in the project)")
    .option("--json", "print one JSON object")
    .action((opts: { resultsDir?: string; json?: boolean }) => {
      const resultsDir = existingDirOption("--results-dir", opts.resultsDir) ?? defaultResultsDir();
      const results = listRunResults(resultsDir);
      const groups = seedGroups(results);
      const { excluded } = partitionResults(results);
      const runs = groups.flatMap((g) => g.runs);
      const verdicts = {
        reproduction: reproductionVerdicts(groups),
        optimizers: optimizerComparison(groups),
        earlyEpochs: earlyEpochComparison(groups),
        recipes: recipeComparison(groups),
        confusedPairs: confusedPairVerdicts(groups),
      };
      if (opts.json) {
        const summary = groups.map(({ runs: groupRuns, ...g }) => ({ ...g, runs: groupRuns.map((r) => r.runId) }));
        process.stdout.write(`${JSON.stringify({ resultsDir, groups: summary, excluded, verdicts })}\n`);
        return;
      }
      const lines = [`${runs.length} full-profile run(s) in ${resultsDir}`];
      if (runs.length > 0) {
        lines.push("", frameMarkdown(seedGroupFrame(groups)), "", frameMarkdown(runResultsFrame(runs)));
      }
      if (excluded.length > 0) lines.push("", `Left out (${excluded.length}):`, ...excluded.map((e) => `- ${e.dir}: ${e.reason}`));
      for (const verdict of Object.values(verdicts)) lines.push("", ...verdict.map((v) => `- ${v}`));
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
