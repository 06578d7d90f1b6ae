import ttest2 from "@stdlib/stats-ttest2";
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import pl from "nodejs-polars";
import { MnistLabError } from "../shared/errors";
import { mostConfusedUnorderedPairs, pairConfusion } from "./confusion";
import type { ReportOptimizer } from "../training/optimizers";
import { OPTIMIZER_LABELS, REPORT_EPOCH_LOGS, REPORT_FINAL_ACCURACY } from "../training/lab_report_log";
import type { RunResultSummary } from "./results";
import { canonicalJson, configLoss, resolveTrainConfig, type Schedule, type TrainConfig } from "../training/runs";
import { REPORT_PADDING_READING, paddingReadingName } from "../model/model";
import type { RunMachine } from "../shared/machine";

// The reproduction's statistics over seeds: every conclusion 04_reproduction states is computed here.

/** Mean, sample standard deviation (n − 1), range and count. */
export interface Spread {
  n: number;
  mean: number;
  /** NaN for a single value. */
  sd: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? NaN : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

/** `99.65% ± 0.03 (n = 3)`: a percentage with its spread in points. */
export function formatSpread(s: Spread): string {
  if (s.n === 0) return "no runs";
  const sd = Number.isNaN(s.sd) ? "" : ` ± ${(100 * s.sd).toFixed(2)}`;
  return `${(100 * s.mean).toFixed(2)}%${sd} (n = ${s.n})`;
}

/** Finished full-profile runs of one optimizer and recipe. */
export interface SeedGroup {
  optimizer: ReportOptimizer;
  schedule: Schedule;
  /** The schedule, then the loss, padding and precision where they are not the recipe's (recipeOf). */
  recipe: string;
  runs: RunResultSummary[];
  final: Spread;
  best: Spread;
  test: Spread;
}

/**
 * The recipe a run followed, as groups name it: `as-run`, or e.g. `as-run, clipped loss, padding sss` for runs of an
 * earlier recipe (the loss before it came from the logits, the padding before the forensics settled it), and
 * `…, mixed_bfloat16` for runs with bf16 convolutions.
 */
export function recipeOf(config: TrainConfig): string {
  const reading = config.model ? paddingReadingName(config.model.paddings) : REPORT_PADDING_READING;
  return [
    config.schedule,
    ...(configLoss(config) === "from-logits" ? [] : ["clipped loss"]),
    ...(reading === REPORT_PADDING_READING ? [] : [`padding ${reading}`]),
    ...(config.precision ? [config.precision] : []),
  ].join(", ");
}

/** A result left out of the reproduction's groups, and why. */
export interface ExcludedResult {
  runId: string;
  dir: string;
  reason: string;
}

/** The report's recipe for a run's optimizer, schedule, loss, padding, precision and seed: what a result must equal to join a group. */
function reportRecipe(config: TrainConfig): TrainConfig {
  return resolveTrainConfig({
    optimizer: config.optimizer,
    seed: config.seed,
    schedule: config.schedule,
    loss: configLoss(config),
    ...(config.model ? { model: { paddings: config.model.paddings } } : {}),
    ...(config.precision ? { precision: config.precision } : {}),
  });
}

/**
 * Splits results into those of the report's recipe, one per (optimizer, recipe, seed), and the rest, each named with its
 * reason: another recipe (the fields that differ), an unfinished run, or a second result of one seed (a copy).
 */
export function partitionResults(results: readonly RunResultSummary[]): { included: RunResultSummary[]; excluded: ExcludedResult[] } {
  const included: RunResultSummary[] = [];
  const excluded: ExcludedResult[] = [];
  const bySeed = new Map<string, RunResultSummary>();
  // A folder named for its own run id comes first, so a renamed copy is the one left out.
  const ordered = [...results].sort((a, b) => Number(b.runId === b.metrics.runId) - Number(a.runId === a.metrics.runId));
  for (const r of ordered) {
    const out = (reason: string) => excluded.push({ runId: r.runId, dir: r.dir, reason });
    if (r.config.optimizer === "sgd" || r.config.model === null) {
      out("not the report's CNN with RMSprop or Adam");
      continue;
    }
    const recipe = reportRecipe(r.config);
    const differs = (Object.keys({ ...recipe, ...r.config }) as Array<keyof TrainConfig>).filter(
      (k) => k !== "loss" && canonicalJson(recipe[k]) !== canonicalJson(r.config[k]),
    );
    if (differs.length > 0) {
      out(`another recipe than the report's: ${differs.join(", ")} differ`);
      continue;
    }
    if (r.metrics.epochsCompleted !== r.config.epochs || r.history.length !== r.config.epochs) {
      out(`unfinished: ${r.history.length} of ${r.config.epochs} epochs`);
      continue;
    }
    const key = `${r.config.optimizer}|${recipeOf(r.config)}|${r.config.seed}`;
    const first = bySeed.get(key);
    if (first) {
      out(`a second result of seed ${r.config.seed} (${first.runId} is counted)`);
      continue;
    }
    bySeed.set(key, r);
    included.push(r);
  }
  return { included, excluded };
}

/** Groups the report-recipe results by optimizer and recipe, one run per seed (see partitionResults for the rest). */
export function seedGroups(results: readonly RunResultSummary[]): SeedGroup[] {
  const groups = new Map<string, RunResultSummary[]>();
  for (const r of partitionResults(results).included) {
    const key = `${r.config.optimizer}|${recipeOf(r.config)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .map(([key, runs]) => {
      const [optimizer, recipe] = key.split("|") as [ReportOptimizer, string];
      runs.sort((a, b) => a.config.seed - b.config.seed);
      return {
        optimizer,
        schedule: runs[0].config.schedule,
        recipe,
        runs,
        final: spread(runs.map((r) => r.metrics.valAccuracy)),
        best: spread(runs.map((r) => r.metrics.bestValAccuracy)),
        test: spread(runs.map((r) => r.evaluation.accuracy)),
      };
    });
}

/** One row per group: final and best validation accuracy as mean ± sd, the seeds it rests on. */
export function seedGroupFrame(groups: readonly SeedGroup[]): pl.DataFrame {
  return pl.DataFrame({
    optimizer: groups.map((g) => OPTIMIZER_LABELS[g.optimizer]),
    recipe: groups.map((g) => g.recipe),
    seeds: groups.map((g) => g.runs.map((r) => r.config.seed).join(", ")),
    "final val_accuracy": groups.map((g) => formatSpread(g.final)),
    "best val_accuracy": groups.map((g) => formatSpread(g.best)),
    "the report": groups.map((g) => `${(100 * REPORT_FINAL_ACCURACY[OPTIMIZER_LABELS[g.optimizer]]).toFixed(2)}%`),
    CPU: groups.map((g) => groupMachines(g.runs)),
  });
}

/** Welch's two-sample t-test of "x's mean is larger than y's" (one-sided), or why it cannot be computed. */
export interface WelchResult {
  t: number;
  df: number;
  /** p-value of the alternative tested: one-sided mean(x) > mean(y) (welchGreater) or two-sided (welchDiffer). */
  pValue: number;
  difference: number;
}

export function welchGreater(x: readonly number[], y: readonly number[]): WelchResult | { unavailable: string } {
  return welch(x, y, "greater");
}

/** Welch's t-test of "x's and y's means differ" (two-sided p-value), or why it cannot be computed. */
export function welchDiffer(x: readonly number[], y: readonly number[]): WelchResult | { unavailable: string } {
  return welch(x, y, "two-sided");
}

function welch(x: readonly number[], y: readonly number[], alternative: "greater" | "two-sided"): WelchResult | { unavailable: string } {
  if (x.length < 2 || y.length < 2) return { unavailable: `needs at least 2 seeds per side (found ${x.length} and ${y.length})` };
  const sx = spread(x);
  const sy = spread(y);
  if (sx.sd === 0 && sy.sd === 0) return { unavailable: "both sides have zero spread" };
  const result = ttest2([...x], [...y], { alternative });
  return { t: result.statistic, df: result.df, pValue: result.pValue, difference: sx.mean - sy.mean };
}

/**
 * Whether a single figure (the report's) is a plausible draw from our seeds: the two-sided p-value of a new
 * observation under a normal model fitted to `sample` (t with n − 1 degrees of freedom, prediction interval),
 * and where it falls against the sample's range.
 */
export function singleValueTest(
  value: number,
  sample: readonly number[],
): { t: number; df: number; pValue: number; withinRange: boolean } | { unavailable: string } {
  const s = spread(sample);
  if (s.n < 2) return { unavailable: `needs at least 2 seeds (found ${s.n})` };
  if (s.sd === 0) return { unavailable: "the seeds have zero spread" };
  const t = (value - s.mean) / (s.sd * Math.sqrt(1 + 1 / s.n));
  const df = s.n - 1;
  return { t, df, pValue: 2 * (1 - tCdf(Math.abs(t), df)), withinRange: value >= s.min && value <= s.max };
}

/** The per-epoch band of one metric over a group's seeds: min, max and mean at every epoch all runs reached. */
export function epochBand(
  runs: readonly RunResultSummary[],
  metric: string,
): { epochs: number[]; min: number[]; max: number[]; mean: number[] } {
  if (runs.length === 0) throw new MnistLabError("Expected at least one run for an epoch band but found none");
  const epochs = Math.min(...runs.map((r) => r.history.length));
  const band = { epochs: [] as number[], min: [] as number[], max: [] as number[], mean: [] as number[] };
  for (let e = 0; e < epochs; e++) {
    const values = runs.map((r) => r.history[e][metric]);
    if (values.some((v) => typeof v !== "number"))
      throw new MnistLabError(`Expected ${metric} in every run's history but epoch ${e + 1} lacks it`);
    band.epochs.push(e + 1);
    band.min.push(Math.min(...values));
    band.max.push(Math.max(...values));
    band.mean.push(values.reduce((a, b) => a + b, 0) / values.length);
  }
  return band;
}

/** How often each digit pair is the most confused (either way) on the test set, across a group's seeds. */
export function topConfusedPairCounts(runs: readonly RunResultSummary[]): Array<{ pair: string; runsOnTop: number; meanCount: number }> {
  const tally = new Map<string, { top: number; total: number }>();
  for (const r of runs) {
    const pairs = mostConfusedUnorderedPairs(r.evaluation.confusion, 45);
    const topCount = pairs[0]?.count ?? 0;
    for (const p of pairs) {
      const key = `(${p.a},${p.b})`;
      const entry = tally.get(key) ?? { top: 0, total: 0 };
      // Ties for the top count all count as "most confused".
      if (p.count === topCount) entry.top += 1;
      entry.total += p.count;
      tally.set(key, entry);
    }
  }
  return [...tally.entries()]
    .map(([pair, e]) => ({ pair, runsOnTop: e.top, meanCount: e.total / runs.length }))
    .sort((a, b) => b.runsOnTop - a.runsOnTop || b.meanCount - a.meanCount)
    .slice(0, 5);
}

/** Over seeds, in how many runs `pair` confuses more images under `a` than under `b` (the report's (0,6) remark). */
export function pairMoreOften(
  a: readonly RunResultSummary[],
  b: readonly RunResultSummary[],
  pair: [number, number],
): { aMean: number; bMean: number; aSpread: Spread; bSpread: Spread } {
  const count = (r: RunResultSummary) => pairConfusion(r.evaluation.confusion, pair[0], pair[1]);
  const aCounts = a.map(count);
  const bCounts = b.map(count);
  const aSpread = spread(aCounts);
  const bSpread = spread(bCounts);
  return { aMean: aSpread.mean, bMean: bSpread.mean, aSpread, bSpread };
}

/**
 * One row per run: optimizer, recipe (recipeOf: the schedule, and the loss and padding of an earlier recipe), seed,
 * final and best validation accuracy, the test set's most confused pairs (ties included) and (0,6), wall time, CPU.
 */
export function runResultsFrame(runs: readonly RunResultSummary[]): pl.DataFrame {
  return pl.DataFrame({
    optimizer: runs.map((r) => OPTIMIZER_LABELS[r.config.optimizer as ReportOptimizer] ?? r.config.optimizer),
    recipe: runs.map((r) => recipeOf(r.config)),
    seed: runs.map((r) => r.config.seed),
    "final val_accuracy": runs.map((r) => `${(100 * r.metrics.valAccuracy).toFixed(2)}%`),
    "best val_accuracy": runs.map((r) => `${(100 * r.metrics.bestValAccuracy).toFixed(2)}% (epoch ${r.metrics.bestEpoch})`),
    "most confused": runs.map((r) => topPairs(r.evaluation.confusion)),
    "(0,6)": runs.map((r) => pairConfusion(r.evaluation.confusion, 0, 6)),
    seconds: runs.map((r) => Math.round(r.metrics.totalSeconds)),
    "s/epoch": runs.map((r) => Math.round(r.metrics.secondsPerEpoch)),
    CPU: runs.map(machinesOf),
  });
}

/** `(2,7), (4,9): 6 each`: the pairs tied for the most confused. */
function topPairs(confusion: readonly (readonly number[])[]): string {
  const pairs = mostConfusedUnorderedPairs(confusion, 45);
  if (pairs.length === 0) return "none";
  const top = pairs.filter((p) => p.count === pairs[0].count);
  return `${top.map((p) => `(${p.a},${p.b})`).join(", ")}: ${pairs[0].count}${top.length > 1 ? " each" : ""}`;
}

/** What machineInfo records when /proc/cpuinfo and os.cpus() name no CPU. */
const UNKNOWN_CPU = "unknown CPU";

function runMachines(r: RunResultSummary): RunMachine[] {
  return r.metrics.machines ?? (r.metrics.machine ? [{ ...r.metrics.machine, fromEpoch: 1 }] : []);
}

/** Whether any epoch of the run ran on a CPU nobody recorded: then it cannot be said to share a machine with another run. */
function hasUnknownCpu(r: RunResultSummary): boolean {
  const machines = runMachines(r);
  return machines.length === 0 || machines.some((m) => !m.cpu || m.cpu === UNKNOWN_CPU);
}

/** The CPU(s) a run ran on: one, or each with the epoch it took over from when the run was resumed elsewhere. */
export function machinesOf(r: RunResultSummary): string {
  const machines = runMachines(r);
  if (machines.length === 0) return UNKNOWN_CPU;
  const cpu = (m: RunMachine) => `${m.cpu || UNKNOWN_CPU} [${m.isa}${m.threads ? `, ${m.threads} threads` : ""}]`;
  if (machines.length === 1) return cpu(machines[0]);
  return machines.map((m) => `${cpu(m)} from epoch ${m.fromEpoch}`).join("; ");
}

/**
 * The CPUs a group of runs ran on: each known one once, and each run with an unknown CPU on its own, named by its
 * seed, since two unknowns may well be two machines.
 */
export function groupMachines(runs: readonly RunResultSummary[]): string {
  const known = [...new Set(runs.filter((r) => !hasUnknownCpu(r)).map(machinesOf))];
  const unknown = runs.filter(hasUnknownCpu).map((r) => `${machinesOf(r)} (seed ${r.config.seed})`);
  return [...known, ...unknown].join("; ");
}

const p3 = (p: number) => (p < 0.001 ? "< 0.001" : p.toFixed(3));
const pts = (x: number) => `${(100 * x).toFixed(2)}`;

/** Per group: is the report's final figure a plausible draw from our seeds? */
export function reproductionVerdicts(groups: readonly SeedGroup[]): string[] {
  if (groups.length === 0) return ["No full-profile runs in results/ yet: nothing to compare with the report."];
  return groups.map((g) => {
    const label = OPTIMIZER_LABELS[g.optimizer];
    const reported = REPORT_FINAL_ACCURACY[label];
    const finals = g.runs.map((r) => r.metrics.valAccuracy);
    const test = singleValueTest(reported, finals);
    const head = `${label} ${g.recipe}: the report's ${pts(reported)}% against ours ${formatSpread(g.final)}`;
    if ("unavailable" in test) return `${head}; no test (${test.unavailable}).`;
    const n = finals.length;
    const verdict = test.pValue >= 0.05 ? "a plausible draw from our seeds' distribution" : "an unlikely draw from our seeds' distribution";
    // What n seeds can say: a new seed falls outside the range of n others with probability 2/(n + 1), and the test
    // needs |t| above the t distribution's 97.5% point with n − 1 degrees of freedom.
    const range = test.withinRange
      ? `it lies within our range ${pts(g.final.min)}–${pts(g.final.max)}%`
      : `it lies outside our range ${pts(g.final.min)}–${pts(g.final.max)}%, as a new seed would ${pct0(2 / (n + 1))} of the time`;
    return (
      `${head}: ${verdict} (t = ${test.t.toFixed(2)}, df ${test.df}, two-sided p ${p3(test.pValue)}); ${range}. ` +
      `With n = ${n} seeds the test needs |t| > ${tCritical(test.df).toFixed(2)} to call a figure unlikely at 5%: ` +
      `${n < 5 ? "more seeds would sharpen this" : "enough to tell a difference of about two seed sds"}.`
    );
  });
}

const pct0 = (x: number) => `${Math.round(100 * x)}%`;

/** The two-sided 5% critical value of Student's t with `df` degrees of freedom (bisection on the cdf). */
export function tCritical(df: number, alpha = 0.05): number {
  let low = 0;
  let high = 1000;
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (1 - tCdf(mid, df) > alpha / 2) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** Per recipe: does RMSprop's final accuracy beat Adam's over seeds (Welch, one-sided)? */
export function optimizerComparison(groups: readonly SeedGroup[]): string[] {
  const recipes = [...new Set(groups.map((g) => g.recipe))];
  const lines: string[] = [];
  for (const recipe of recipes) {
    const r = groups.find((g) => g.recipe === recipe && g.optimizer === "rmsprop");
    const a = groups.find((g) => g.recipe === recipe && g.optimizer === "adam");
    if (!r || !a) {
      lines.push(`${recipe}: needs runs of both optimizers (found ${r ? "RMSprop" : a ? "Adam" : "neither"} only).`);
      continue;
    }
    const result = welchGreater(
      r.runs.map((x) => x.metrics.valAccuracy),
      a.runs.map((x) => x.metrics.valAccuracy),
    );
    const head = `${recipe}: RMSprop ${formatSpread(r.final)} vs Adam ${formatSpread(a.final)}`;
    if ("unavailable" in result) {
      lines.push(`${head}; no test (${result.unavailable}).`);
      continue;
    }
    const verdict =
      result.pValue < 0.05
        ? `RMSprop is ahead by ${pts(result.difference)} points (significant at 5%)`
        : `no evidence that RMSprop beats Adam (difference ${pts(result.difference)} points)`;
    lines.push(`${head}: ${verdict}; Welch t = ${result.t.toFixed(2)}, df ${result.df.toFixed(1)}, one-sided p ${p3(result.pValue)}.`);
  }
  return lines.length > 0 ? lines : ["No full-profile runs in results/ yet."];
}

/** The report's "RMSprop's first ten epochs are less accurate than Adam's", checked on the seeds' mean curves. */
export function earlyEpochComparison(groups: readonly SeedGroup[], epochs = 10): string[] {
  const lines: string[] = [];
  for (const recipe of [...new Set(groups.map((g) => g.recipe))]) {
    const r = groups.find((g) => g.recipe === recipe && g.optimizer === "rmsprop");
    const a = groups.find((g) => g.recipe === recipe && g.optimizer === "adam");
    if (!r || !a) continue;
    const rb = epochBand(r.runs, "val_accuracy");
    const ab = epochBand(a.runs, "val_accuracy");
    const n = Math.min(epochs, rb.epochs.length, ab.epochs.length);
    const behind = Array.from({ length: n }, (_, e) => rb.mean[e] < ab.mean[e]).filter(Boolean).length;
    const reportBehind = REPORT_EPOCH_LOGS.RMSprop.slice(0, n).filter(
      (l, e) => l.val_accuracy < REPORT_EPOCH_LOGS.Adam[e].val_accuracy,
    ).length;
    lines.push(
      `${recipe}: over the first ${n} epochs RMSprop's mean val_accuracy is below Adam's in ${behind} of ${n} epochs ` +
        `(the report's single runs: ${reportBehind} of ${n}).`,
    );
  }
  return lines.length > 0 ? lines : ["Needs full-profile runs of both optimizers."];
}

/**
 * Per optimizer, each earlier recipe's group against the recipe as it now stands (the same schedule, nothing else
 * named): is a gap in the final val_accuracy the recipe's, or the last epoch's draw? Under the as-run schedule's
 * constant rate, one epoch's val_accuracy moves about within a run, so the mean of the `epochs` epochs before the last
 * says more per seed than the last alone, and does not share its draw.
 */
export function recipeComparison(groups: readonly SeedGroup[], epochs = 10): string[] {
  const lines: string[] = [];
  for (const earlier of groups.filter((g) => g.recipe !== g.schedule)) {
    const current = groups.find((g) => g.optimizer === earlier.optimizer && g.recipe === earlier.schedule);
    if (!current) continue;
    // Per run: the mean of the epochs before its last, and how far one epoch's val_accuracy moves around it.
    const late = (g: SeedGroup) => g.runs.map((r) => spread(r.history.slice(-epochs - 1, -1).map((h) => h.val_accuracy)));
    const [nowLate, thenLate] = [late(current), late(earlier)];
    const [nowMeans, thenMeans] = [nowLate.map((s) => s.mean), thenLate.map((s) => s.mean)];
    const finalTest = welchDiffer(
      current.runs.map((r) => r.metrics.valAccuracy),
      earlier.runs.map((r) => r.metrics.valAccuracy),
    );
    const lateTest = welchDiffer(nowMeans, thenMeans);
    const tested = (w: WelchResult | { unavailable: string }) =>
      "unavailable" in w ? `no test: ${w.unavailable}` : `Welch two-sided p ${p3(w.pValue)}`;
    const finalGap = current.final.mean - earlier.final.mean;
    const lateGap = spread(nowMeans).mean - spread(thenMeans).mean;
    const withinRun = spread([...nowLate, ...thenLate].map((s) => s.sd)).mean;
    const verdict =
      "unavailable" in lateTest
        ? "too few seeds to test the late epochs"
        : lateTest.pValue < 0.05
          ? `the recipes differ late in training, by ${signedPts(lateGap)} points`
          : "no evidence that the recipes differ late in training" +
            (Math.abs(finalGap) <= 2 * withinRun
              ? `; the last epoch's gap of ${pts(Math.abs(finalGap))} points is within two of those moves, so it may be that epoch's draw`
              : "");
    lines.push(
      `${OPTIMIZER_LABELS[earlier.optimizer]}, ${current.recipe} against ${earlier.recipe}: the last epoch ` +
        `${formatSpread(current.final)} vs ${formatSpread(earlier.final)} (${signedPts(finalGap)} points; ${tested(finalTest)}); ` +
        `the mean of the ${epochs} epochs before it ${formatSpread(spread(nowMeans))} vs ${formatSpread(spread(thenMeans))} ` +
        `(${signedPts(lateGap)} points; ${tested(lateTest)}). Within a run one epoch's val_accuracy moves ${pts(withinRun)} points ` +
        `(sd over those epochs, mean over runs): ${verdict}.`,
    );
  }
  return lines.length > 0 ? lines : ["No earlier recipe's group beside the current one's to compare."];
}

/** Points with their sign, none when they round to zero. */
function signedPts(x: number): string {
  const size = pts(Math.abs(x));
  return Number(size) === 0 ? size : `${x > 0 ? "+" : "−"}${size}`;
}

/** How often (4,9) tops the confused pairs per group, and whether RMSprop confuses (0,6) more than Adam. */
export function confusedPairVerdicts(groups: readonly SeedGroup[]): string[] {
  if (groups.length === 0) return ["No full-profile runs in results/ yet."];
  const lines = groups.map((g) => {
    const top = topConfusedPairCounts(g.runs);
    const fourNine = top.find((t) => t.pair === "(4,9)")?.runsOnTop ?? 0;
    const list = top
      .slice(0, 3)
      .map((t) => `${t.pair} on top in ${t.runsOnTop}, ${t.meanCount.toFixed(1)} images on average`)
      .join("; ");
    return (
      `${OPTIMIZER_LABELS[g.optimizer]} ${g.recipe}: ` +
      `(4,9) is the most confused pair in ${fourNine} of ${g.runs.length} seeds — ${list}.`
    );
  });
  for (const recipe of [...new Set(groups.map((g) => g.recipe))]) {
    const r = groups.find((g) => g.recipe === recipe && g.optimizer === "rmsprop");
    const a = groups.find((g) => g.recipe === recipe && g.optimizer === "adam");
    if (!r || !a) continue;
    const c = pairMoreOften(r.runs, a.runs, [0, 6]);
    const holds = c.aMean > c.bMean ? "holds on average" : "does not hold on average";
    lines.push(
      `${recipe}: (0,6) confused ${c.aMean.toFixed(1)} times under RMSprop (range ${c.aSpread.min}–${c.aSpread.max}) ` +
        `vs ${c.bMean.toFixed(1)} under Adam (range ${c.bSpread.min}–${c.bSpread.max}): the report's remark ${holds}.`,
    );
  }
  return lines;
}
