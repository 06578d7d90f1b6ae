// The analyses behind 06_forensics: each explanation of a line the report logged, as a computation over our
// runs' per-step and per-epoch histories. Every verdict 06 states is built here from numbers, never typed.
import * as fs from "node:fs";
import * as path from "node:path";
import { MnistLabError } from "../shared/errors";
import { OPTIMIZER_LABELS, REPORT_EPOCH_LOGS, type ReportEpochLog } from "../training/lab_report_log";
import type { OptimizerName } from "../training/optimizers";
import pl from "nodejs-polars";
import { REPORT_CNN_DEFAULTS, REPORT_PADDING_READING, buildReportCnn, paddingReadingName, paddingReadings } from "../model/model";
import { confidentlyWrongSample } from "../model/loss";
import { configLoss, resolveTrainConfig } from "../training/runs";
import type { EpochLogs } from "../training/callbacks";
import type { StepLog } from "../training/steps";
import { listRunResults, type RunResultSummary } from "./results";
import { partitionResults, recipeOf, spread } from "./reproduction";
import { EARLIER_PADDING_READING, PADDING_CONFIRM, studyRuns, type ForensicStudy } from "./forensic_studies";

/** Steps per epoch in the Kaggle kernel the report follows: `steps_per_epoch = len(X_train) // 86`. */
export const KAGGLE_STEPS_PER_EPOCH = 697;

/** A study's committed summaries (forensics/<study>/), verified by their checksums. */
export function loadStudy(study: ForensicStudy, forensicsDir: string): RunResultSummary[] {
  const dir = path.join(forensicsDir, study);
  return fs.existsSync(dir) ? listRunResults(dir) : [];
}

/** Batch-size-weighted mean loss and accuracy of steps `[from, from + count)` of a concatenated per-step curve. */
export function windowMeans(steps: readonly StepLog[], from: number, count: number): { loss: number; accuracy: number } {
  if (from < 0 || from + count > steps.length) {
    throw new MnistLabError(`Expected a window inside the ${steps.length} steps but found steps ${from + 1}–${from + count}`);
  }
  let images = 0;
  let loss = 0;
  let correct = 0;
  for (let i = from; i < from + count; i++) {
    images += steps[i].size;
    loss += steps[i].loss * steps[i].size;
    correct += steps[i].correct;
  }
  return { loss: loss / images, accuracy: correct / images };
}

/** The two logged epochs a fit would print had its model trained `offset` steps before: windows of `stepsPerEpoch`. */
export function logsAfterOffset(
  steps: readonly StepLog[],
  offset: number,
  stepsPerEpoch = KAGGLE_STEPS_PER_EPOCH,
): [{ loss: number; accuracy: number }, { loss: number; accuracy: number }] {
  return [windowMeans(steps, offset, stepsPerEpoch), windowMeans(steps, offset + stepsPerEpoch, stepsPerEpoch)];
}

/** The report's epoch 1 and 2 training pairs that a window fit matches: loss and accuracy of each. */
export type TwoEpochTarget = [{ loss: number; accuracy: number }, { loss: number; accuracy: number }];

export function reportTwoEpochs(logs: readonly ReportEpochLog[]): TwoEpochTarget {
  return [
    { loss: logs[0].loss, accuracy: logs[0].accuracy },
    { loss: logs[1].loss, accuracy: logs[1].accuracy },
  ];
}

/**
 * Squared distance between two epochs' windows and the target, each figure relative to the target
 * (so loss and accuracy weigh alike whatever their scale).
 */
function windowDistance(windows: TwoEpochTarget, target: TwoEpochTarget): number {
  let d = 0;
  for (let e = 0; e < 2; e++) {
    d += ((windows[e].loss - target[e].loss) / target[e].loss) ** 2;
    d += ((1 - windows[e].accuracy - (1 - target[e].accuracy)) / (1 - target[e].accuracy)) ** 2;
  }
  return d;
}

export interface OffsetFit {
  /** Steps trained before the logged fit that best match the target, for each curve (seed). */
  perSeed: Array<{ offset: number; distance: number; windows: TwoEpochTarget }>;
  /** Mean and sd of the per-seed offsets. */
  offset: { mean: number; sd: number; n: number };
  /** What a fresh fit (offset 0) would print, per seed: the control. */
  fresh: TwoEpochTarget[];
  target: TwoEpochTarget;
  stepsPerEpoch: number;
}

/**
 * Slides a two-epoch window along each per-step curve and finds, per curve, the offset (steps already trained
 * before the logged fit) whose epoch-1 and epoch-2 means best match the target. Errors in accuracy count relative to
 * the error rate (1 − accuracy), so 0.9658 vs 0.9767 is a large gap, as it is.
 */
export function fitHeadStart(
  curves: ReadonlyArray<readonly StepLog[]>,
  target: TwoEpochTarget,
  stepsPerEpoch = KAGGLE_STEPS_PER_EPOCH,
): OffsetFit {
  if (curves.length === 0) throw new MnistLabError("Expected at least one per-step curve but found none");
  const perSeed = curves.map((steps, i) => {
    const last = steps.length - 2 * stepsPerEpoch;
    if (last < 0) {
      throw new MnistLabError(`Expected curve ${i + 1} to have at least ${2 * stepsPerEpoch} steps but found ${steps.length}`);
    }
    let best = { offset: 0, distance: Infinity, windows: logsAfterOffset(steps, 0, stepsPerEpoch) };
    for (let offset = 0; offset <= last; offset++) {
      const windows = logsAfterOffset(steps, offset, stepsPerEpoch);
      const distance = windowDistance(windows, target);
      if (distance < best.distance) best = { offset, distance, windows };
    }
    return best;
  });
  const s = spread(perSeed.map((p) => p.offset));
  return {
    perSeed,
    offset: { mean: s.mean, sd: s.sd, n: s.n },
    fresh: curves.map((steps) => logsAfterOffset(steps, 0, stepsPerEpoch)),
    target,
    stepsPerEpoch,
  };
}

/** Mean accuracy of the `window` steps ending at each step (NaN before a full window). */
export function rollingAccuracy(steps: readonly StepLog[], window: number): number[] {
  const out = new Array<number>(steps.length).fill(NaN);
  let correct = 0;
  let images = 0;
  for (let i = 0; i < steps.length; i++) {
    correct += steps[i].correct;
    images += steps[i].size;
    if (i >= window) {
      correct -= steps[i - window].correct;
      images -= steps[i - window].size;
    }
    if (i >= window - 1) out[i] = correct / images;
  }
  return out;
}

/**
 * A collapse: once the rolling accuracy (over `window` steps) has reached `reached`, it falls by at least `drop`
 * below its best so far. The report's RMSprop epoch 1 (val_accuracy 0.8721 under a train mean of 0.8847, then 0.9916)
 * fits a late fall of this kind.
 */
export interface CollapseRule {
  window: number;
  reached: number;
  drop: number;
}

export const COLLAPSE_RULE: CollapseRule = { window: 25, reached: 0.85, drop: 0.1 };

export interface Collapse {
  /** 1-based epoch and step where the fall first exceeded `drop`. */
  epoch: number;
  step: number;
  /** The best rolling accuracy before it, and the lowest after it. */
  peak: number;
  trough: number;
}

/** The first collapse in a per-step curve under `rule`, or undefined. */
export function detectCollapse(steps: readonly StepLog[], rule: CollapseRule = COLLAPSE_RULE): Collapse | undefined {
  const rolling = rollingAccuracy(steps, rule.window);
  let peak = -Infinity;
  for (let i = 0; i < steps.length; i++) {
    const r = rolling[i];
    if (Number.isNaN(r)) continue;
    if (r > peak) peak = r;
    if (peak >= rule.reached && peak - r >= rule.drop) {
      let trough = r;
      for (let j = i; j < steps.length && !(rolling[j] >= peak); j++) trough = Math.min(trough, rolling[j]);
      return { epoch: steps[i].epoch, step: steps[i].step, peak, trough };
    }
  }
  return undefined;
}

/** Wilson's 95% interval for a proportion of `k` in `n`. */
export function wilsonInterval(k: number, n: number, z = 1.959963984540054): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** The report's epoch-1 signature for RMSprop: validation below the epoch's own training mean. */
export function valBelowTrain(history: readonly EpochLogs[]): boolean {
  return history.length > 0 && history[0].val_accuracy < history[0].accuracy;
}

export interface CollapseStudy {
  rule: CollapseRule;
  seeds: Array<{ seed: number; collapse: Collapse | undefined; epoch1: EpochLogs; valBelowTrain: boolean }>;
  collapsed: number;
  interval: { low: number; high: number };
}

/** Collapses in epoch 1–2 over a study's runs, with Wilson's interval for how often they happen. */
export function collapseStudy(runs: readonly RunResultSummary[], rule: CollapseRule = COLLAPSE_RULE): CollapseStudy {
  const seeds = runs
    .filter((r) => r.steps.length > 0 && r.history.length > 0)
    .map((r) => ({
      seed: r.config.seed,
      collapse: detectCollapse(r.steps, rule),
      epoch1: r.history[0],
      valBelowTrain: valBelowTrain(r.history),
    }))
    .sort((a, b) => a.seed - b.seed);
  const collapsed = seeds.filter((s) => s.collapse).length;
  return { rule, seeds, collapsed, interval: wilsonInterval(collapsed, seeds.length) };
}

const MATCHED_METRICS = ["loss", "accuracy", "val_loss", "val_accuracy"] as const;
export type MatchedMetric = (typeof MATCHED_METRICS)[number];

/** Runs of one candidate (e.g. a padding reading) per optimizer. */
export interface Candidate {
  name: string;
  runs: { RMSprop: ReadonlyArray<readonly EpochLogs[]>; Adam: ReadonlyArray<readonly EpochLogs[]> };
}

export interface CandidateScore {
  name: string;
  /** Mean of z² over every (optimizer, metric, epoch) compared. */
  meanSquaredZ: number;
  terms: number;
  seeds: { RMSprop: number; Adam: number };
}

/**
 * Ranks candidates by how far the report's logged epochs `fromEpoch…` lie from each candidate's seed mean, in units of
 * seed-to-seed spread: z = (report − mean) / (sd·√(1 + 1/n)), the report being one more draw (a prediction interval),
 * where sd is `scale`'s (a reference group's spread), or the candidate's own when it has ≥ 2 seeds and spreads wider.
 * Every candidate is scored on the same figures: the optimizers all of them have, up to the epoch all reached.
 * Smallest mean z² first.
 */
export function rankCandidates(
  candidates: readonly Candidate[],
  scale: (optimizer: "RMSprop" | "Adam", metric: MatchedMetric) => number,
  fromEpoch = 2,
): CandidateScore[] {
  const optimizers = (["RMSprop", "Adam"] as const).filter((o) => candidates.length > 0 && candidates.every((c) => c.runs[o].length > 0));
  const lastEpoch = (o: "RMSprop" | "Adam") =>
    Math.min(REPORT_EPOCH_LOGS[o].length, ...candidates.flatMap((c) => c.runs[o].map((h) => h.length)));
  const scores = candidates.map((c) => {
    let sum = 0;
    let terms = 0;
    for (const optimizer of optimizers) {
      const runs = c.runs[optimizer];
      for (let e = fromEpoch; e <= lastEpoch(optimizer); e++) {
        for (const metric of MATCHED_METRICS) {
          const s = spread(runs.map((h) => h[e - 1][metric]));
          const sd = Math.max(scale(optimizer, metric), s.n >= 2 ? s.sd : 0) * Math.sqrt(1 + 1 / s.n);
          sum += ((REPORT_EPOCH_LOGS[optimizer][e - 1][metric] - s.mean) / sd) ** 2;
          terms++;
        }
      }
    }
    return {
      name: c.name,
      meanSquaredZ: terms === 0 ? NaN : sum / terms,
      terms,
      seeds: { RMSprop: c.runs.RMSprop.length, Adam: c.runs.Adam.length },
    };
  });
  return scores.filter((s) => s.terms > 0).sort((a, b) => a.meanSquaredZ - b.meanSquaredZ);
}

/**
 * The seed-to-seed sd of each (optimizer, metric) over a reference group's histories, pooled over epochs `fromEpoch`–10
 * (the root of the mean variance: three seeds give a noisy sd at any one epoch, nine epochs of them a steadier one).
 */
export function seedScale(
  groups: { RMSprop: ReadonlyArray<readonly EpochLogs[]>; Adam: ReadonlyArray<readonly EpochLogs[]> },
  fromEpoch = 2,
): (optimizer: "RMSprop" | "Adam", metric: MatchedMetric) => number {
  return (optimizer, metric) => {
    const variances: number[] = [];
    for (let e = fromEpoch; e <= REPORT_EPOCH_LOGS[optimizer].length; e++) {
      const s = spread(groups[optimizer].filter((h) => h.length >= e).map((h) => h[e - 1][metric]));
      if (s.n >= 2) variances.push(s.sd ** 2);
    }
    return variances.length === 0 ? NaN : Math.sqrt(variances.reduce((a, b) => a + b, 0) / variances.length);
  };
}

/**
 * How strongly the best candidate beats the runner-up: the gap in total z², and the likelihood ratio it implies once
 * divided by the best candidate's mean z² when that exceeds 1 (quasi-likelihood: when even the best fits worse than
 * seed noise, the misfit is not all noise, and a raw ratio would overstate the evidence).
 */
export function rankingStrength(
  scores: readonly CandidateScore[],
  against = 1,
): { gap: number; overdispersion: number; likelihoodRatio: number } | undefined {
  if (scores.length <= against) return undefined;
  const [best, next] = [scores[0], scores[against]];
  const gap = next.meanSquaredZ * next.terms - best.meanSquaredZ * best.terms;
  const overdispersion = Math.max(1, best.meanSquaredZ);
  return { gap, overdispersion, likelihoodRatio: Math.exp(gap / overdispersion / 2) };
}

/** Below this likelihood ratio against the best, a candidate is within reach (Kass and Raftery: not yet "strong"). */
export const WITHIN_REACH_RATIO = 20;
/** At most this many padding readings go on to the confirmation (each costs 4 runs of 10 epochs). */
const MAX_PADDING_FINALISTS = 3;

/** The best candidate and those within reach of it, best first, at most `max`. */
export function withinReach(scores: readonly CandidateScore[], max = MAX_PADDING_FINALISTS): string[] {
  return scores
    .filter((_, i) => i === 0 || rankingStrength(scores, i)!.likelihoodRatio < WITHIN_REACH_RATIO)
    .slice(0, max)
    .map((s) => s.name);
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const f4 = (x: number) => x.toFixed(4);

/** The loss section: the issue's test case computed both ways. */
export function lossNumericsVerdict(fromLogits: { loss: number; gradient: number }, clipped: { loss: number; gradient: number }): string[] {
  return [
    `A sample whose wrong class leads its true class by 30 logits costs ${fromLogits.loss.toFixed(3)} from the logits ` +
      `(Keras 2.3.1 on TensorFlow) with a gradient of ${fromLogits.gradient.toFixed(3)} on the output weights; ` +
      `the clipped loss (tfjs, our earlier recipe) caps it at ${clipped.loss.toFixed(3)} ` +
      `with a gradient of ${clipped.gradient.toFixed(3)}.`,
  ];
}

/**
 * The loss asked again of the recipe's network: loss-confirm's clipped-loss runs against the recipe's full runs of the
 * same seeds (loss from the logits, the same start and augmentation draws), both over the confirmation's epochs.
 * `scores` once every clipped run is committed; until then `pending` says how many are.
 */
export function recipeLossRanking(
  clipped: readonly RunResultSummary[],
  results: readonly RunResultSummary[],
  scale: ReturnType<typeof seedScale>,
): { scores: CandidateScore[] } | { pending: string } {
  const { seeds, epochs } = PADDING_CONFIRM;
  const ofSeeds = (runs: readonly RunResultSummary[]) =>
    runs.filter((r) => (seeds as readonly number[]).includes(r.config.seed) && r.history.length >= epochs);
  const done = ofSeeds(clipped).filter((r) => configLoss(r.config) === "clipped" && readingName(r) === REPORT_PADDING_READING);
  const planned = seeds.length * 2;
  if (done.length < planned) {
    return {
      pending:
        `Loss on the recipe's network (${REPORT_PADDING_READING}): ${done.length} of ${planned} clipped-loss runs committed; ` +
        "`mnist-lab forensics loss-confirm` trains the rest.",
    };
  }
  const fromLogits = ofSeeds([...recipeRuns(results, "rmsprop"), ...recipeRuns(results, "adam")]);
  const cut = (r: RunResultSummary) => ({ ...r, history: r.history.slice(0, epochs) });
  return {
    scores: rankCandidates(
      candidatesBy([...fromLogits, ...done].map(cut), (r) => configLoss(r.config)),
      scale,
    ),
  };
}

/**
 * The loss section: the source's case computed both ways, how each loss's runs sit against the report's epochs (on the
 * earlier padding, then on the recipe's network), and the verdict — the source decides what Keras computed; the fit
 * on the recipe's network, once committed, says whether the report's lines could tell.
 */
export function lossVerdict(
  earlier: readonly CandidateScore[],
  recipe: { scores: readonly CandidateScore[] } | { pending: string },
): string[] {
  const seedsEach = (all: readonly CandidateScore[]) => {
    const n = Math.min(...all.map((c) => Math.min(c.seeds.RMSprop, c.seeds.Adam)));
    return `${n} seed${n === 1 ? "" : "s"} per loss and optimizer`;
  };
  const onRecipe = "scores" in recipe && recipe.scores.length >= 2;
  const scores = onRecipe ? recipe.scores : earlier;
  const where = onRecipe ? `on the recipe's network (${REPORT_PADDING_READING})` : `on ${EARLIER_PADDING_READING}`;
  const strength = rankingStrength(scores);
  const firm = strength !== undefined && strength.likelihoodRatio >= 20;
  const { seeds, epochs } = PADDING_CONFIRM;
  return [
    ...lossNumericsVerdict(confidentlyWrongSample("from-logits"), confidentlyWrongSample("clipped")),
    ...rankingVerdict(`Loss (seed 1, padding ${EARLIER_PADDING_READING}, epochs 2–5)`, earlier, "from-logits"),
    ...("scores" in recipe
      ? rankingVerdict(
          `Loss on the recipe's network (${REPORT_PADDING_READING}, seeds ${seeds.join(" and ")}, epochs 2–${epochs})`,
          recipe.scores,
          "from-logits",
        )
      : [recipe.pending]),
    `Verdict: Keras 2.3.1 on TensorFlow computed the loss from the logits (its source), so the recipe does; ` +
      (strength === undefined
        ? "no runs of both losses yet to see whether the report's lines could tell them apart."
        : firm
          ? `${where} the report's lines favour ${scores[0].name} strongly ` +
            `(likelihood ratio ${strength.likelihoodRatio.toPrecision(3)}, ${seedsEach(scores)}), ` +
            `${scores[0].name === "from-logits" ? "as the source says" : "against the source: a question for more seeds"}.`
          : `${where} the report's lines cannot tell the two losses apart firmly (likelihood ratio ` +
            `${strength.likelihoodRatio.toPrecision(3)} for ${scores[0].name}, ${seedsEach(scores)}).`),
  ];
}

/** A fit's fresh epoch-1 accuracies, whether the report's lies outside them, and its offset's ` ± sd` (none for one seed). */
function freshEpochOne(fit: OffsetFit): { fresh1: ReturnType<typeof spread>; outside: boolean; sd: string } {
  const fresh1 = spread(fit.fresh.map((f) => f[0].accuracy));
  const t1 = fit.target[0];
  return {
    fresh1,
    outside: t1.accuracy > fresh1.max || t1.accuracy < fresh1.min,
    sd: Number.isNaN(fit.offset.sd) ? "" : ` ± ${fit.offset.sd.toFixed(0)}`,
  };
}

/** The head-start section's verdict from a window fit over fresh Adam curves. */
export function headStartVerdict(fit: OffsetFit): string[] {
  const [t1, t2] = fit.target;
  const { fresh1, outside, sd } = freshEpochOne(fit);
  const freshLoss1 = spread(fit.fresh.map((f) => f[0].loss));
  return [
    `The report's Adam epoch 1 (loss ${f4(t1.loss)}, accuracy ${f4(t1.accuracy)}) and epoch 2 (${f4(t2.loss)}, ${f4(t2.accuracy)}) ` +
      `are best matched by a fit that began after ${fit.offset.mean.toFixed(0)}${sd} steps of earlier training ` +
      `(n = ${fit.offset.n} seed${fit.offset.n === 1 ? "" : "s"}: ${fit.perSeed.map((p) => p.offset).join(", ")} steps; ` +
      `${fit.stepsPerEpoch}-step epochs). There our runs print epoch 1 at ` +
      `${fit.perSeed.map((p) => `${f4(p.windows[0].loss)}/${f4(p.windows[0].accuracy)}`).join(", ")} and epoch 2 at ` +
      `${fit.perSeed.map((p) => `${f4(p.windows[1].loss)}/${f4(p.windows[1].accuracy)}`).join(", ")} (loss/accuracy).`,
    `A fresh fit's epoch 1 prints accuracy ${f4(fresh1.min)}–${f4(fresh1.max)} and loss ${f4(freshLoss1.min)}–${f4(freshLoss1.max)} ` +
      `over our seeds: the report's ${f4(t1.accuracy)} is ${outside ? "outside" : "inside"} that range.`,
    outside && fit.offset.mean > 0
      ? `Verdict: the report's Adam log fits a model that had trained about ${fit.offset.mean.toFixed(0)} steps before its logged fit ` +
        `(a re-run cell), not a fresh one` +
        `${fit.offset.n < 3 ? `; ${fit.offset.n} seed${fit.offset.n === 1 ? "" : "s"} so far, fewer than the 3 this needs` : ""}.`
      : `Verdict: a fresh fit explains the report's Adam epoch 1 as well as a head start does; no head start is needed.`,
  ];
}

/**
 * The full runs in results/ of the recipe as it now stands (as-run, loss from the logits, the report's padding), cut
 * to the epochs `study` trains with the same optimizer: the study's question asked again of the recipe's network, at
 * no cost, since every run keeps its per-step history.
 */
export function recipeFirstEpochs(results: readonly RunResultSummary[], study: "head-start" | "collapse"): RunResultSummary[] {
  const { optimizer, epochs } = resolveTrainConfig(studyRuns(study)[0].config);
  return recipeRuns(results, optimizer).map((r) => ({
    ...r,
    history: r.history.slice(0, epochs),
    steps: r.steps.filter((s) => s.epoch <= epochs),
  }));
}

/** The full runs in results/ of the recipe as it now stands, for one optimizer. */
function recipeRuns(results: readonly RunResultSummary[], optimizer: OptimizerName): RunResultSummary[] {
  return partitionResults(results).included.filter((r) => r.config.optimizer === optimizer && recipeOf(r.config) === "as-run");
}

/** Where the recipe checks below draw from, as their lines name it. */
function recipeRunsWhere(runs: readonly RunResultSummary[]): string {
  return (
    `On the recipe's network (padding ${REPORT_PADDING_READING}, loss from the logits), ` +
    `the first ${runs[0].history.length} epochs of its full runs in results/`
  );
}

/** The head-start fit asked again of the recipe's network (recipeFirstEpochs): does the verdict carry over? */
export function recipeHeadStartCheck(runs: readonly RunResultSummary[]): string[] {
  if (runs.length === 0) return ["No full run of the recipe's Adam in results/ yet to check the head start on its network."];
  const fit = fitHeadStart(
    runs.map((r) => r.steps),
    reportTwoEpochs(REPORT_EPOCH_LOGS.Adam),
  );
  const t1 = fit.target[0];
  const { fresh1, outside, sd } = freshEpochOne(fit);
  return [
    `${recipeRunsWhere(runs)} put the head start at ${fit.offset.mean.toFixed(0)}${sd} steps ` +
      `(n = ${fit.offset.n} seed${fit.offset.n === 1 ? "" : "s"}: ${fit.perSeed.map((p) => p.offset).join(", ")} steps); ` +
      `a fresh fit's epoch 1 prints accuracy ${f4(fresh1.min)}–${f4(fresh1.max)} there, ` +
      (outside && fit.offset.mean > 0
        ? `so the report's ${f4(t1.accuracy)} is outside it too: the verdict holds on the recipe's network, with its own head start.`
        : `and the report's ${f4(t1.accuracy)} is inside it: on the recipe's network a fresh fit explains the report's epoch 1.`),
  ];
}

/** The collapse count asked again of the recipe's network (recipeFirstEpochs). */
export function recipeCollapseCheck(runs: readonly RunResultSummary[]): string[] {
  if (runs.length === 0) return ["No full run of the recipe's RMSprop in results/ yet to look for collapses on its network."];
  const study = collapseStudy(runs);
  const n = study.seeds.length;
  const signature = study.seeds.filter((s) => s.valBelowTrain).length;
  const falls = study.seeds.filter((s) => s.collapse).map((s) => `seed ${s.seed} at epoch ${s.collapse!.epoch}, step ${s.collapse!.step}`);
  return [
    `${recipeRunsWhere(runs)}: ${study.collapsed} of ${n} RMSprop seeds collapse ` +
      `(95% Wilson interval ${pct(study.interval.low)}–${pct(study.interval.high)})${falls.length > 0 ? `: ${falls.join("; ")}` : ""}, ` +
      `and ${signature} of ${n} print the report's signature.`,
  ];
}

/** The collapse section's verdict. */
export function collapseVerdict(study: CollapseStudy): string[] {
  const n = study.seeds.length;
  const { window, reached, drop } = study.rule;
  const lines = [
    `Collapse: the rolling accuracy over ${window} steps, once at ${reached} or more, falls ${drop} or more below its best. ` +
      `${study.collapsed} of ${n} RMSprop seeds collapse in their first two epochs ` +
      `(95% Wilson interval ${pct(study.interval.low)}–${pct(study.interval.high)}).`,
  ];
  for (const s of study.seeds.filter((x) => x.collapse)) {
    const c = s.collapse!;
    lines.push(
      `Seed ${s.seed}: falls at epoch ${c.epoch}, step ${c.step} (rolling accuracy ${f4(c.peak)} → ${f4(c.trough)}); ` +
        `its epoch 1 prints loss ${f4(s.epoch1.loss)} - accuracy ${f4(s.epoch1.accuracy)} - val_accuracy ${f4(s.epoch1.val_accuracy)}` +
        `${s.valBelowTrain ? ", validation below training as in the report" : ""}.`,
    );
  }
  const signature = study.seeds.filter((s) => s.valBelowTrain).length;
  lines.push(
    `The report's signature (epoch 1's val_accuracy 0.8721 below its training mean 0.8847) appears in ${signature} of ${n} seeds ` +
      `(95% Wilson interval ${pct(wilsonInterval(signature, n).low)}–${pct(wilsonInterval(signature, n).high)}).`,
  );
  const withSignature = study.seeds.filter((s) => s.collapse && s.valBelowTrain).length;
  const planned = studyRuns("collapse").length;
  lines.push(
    study.collapsed === 0
      ? `Verdict: none of ${n} seeds collapses, so a collapse is rarer than ${pct(study.interval.high)} of first epochs (95%): ` +
          "it does not explain the report's RMSprop epoch 1 as a common event; " +
          `${n < planned ? `${planned - n} of the study's ${planned} seeds are still to train; ` : ""}a rare one stays possible.`
      : `Verdict: ${study.collapsed} of ${n} seeds collapse and ${withSignature} of those print the report's signature: ` +
          (withSignature > 0 ? "a collapse can produce the report's epoch-1 line." : "a collapse here does not produce the report's line."),
  );
  return lines;
}

/** A likelihood ratio as a reader takes it in: three figures, a power of ten, or (past a double's range) its log10. */
function formatRatio(ratio: number, gap: number, overdispersion: number): string {
  if (ratio < 1e6) return ratio.toPrecision(3);
  if (Number.isFinite(ratio)) return ratio.toExponential(1);
  return `10^${((gap / overdispersion / 2) * Math.LOG10E).toFixed(0)}`;
}

/**
 * The ranking's verdict: which candidate the report's lines favour, and by how much; `recipe` names the candidate the
 * recipe chose, whose rank the last line states (null: no such line).
 */
export function rankingVerdict(what: string, scores: readonly CandidateScore[], recipe: string | null): string[] {
  if (scores.length === 0) return [`${what}: no runs yet.`];
  if (scores.length === 1)
    return [`${what}: only ${scores[0].name} has runs yet (mean z² ${scores[0].meanSquaredZ.toFixed(2)}); nothing to rank.`];
  const strength = rankingStrength(scores);
  const rank = scores.findIndex((s) => s.name === recipe) + 1;
  const [best, next] = scores;
  return [
    `${what}: ${best.name} lies closest to the report's logged epochs ` +
      `(mean z² ${best.meanSquaredZ.toFixed(2)} over ${best.terms} figures)` +
      (strength
        ? `, ahead of ${next.name} (${next.meanSquaredZ.toFixed(2)}) by ${strength.gap.toFixed(1)} in total z²; ` +
          `scaled by the best fit's misfit (${strength.overdispersion.toFixed(1)}), a likelihood ratio of ` +
          `${formatRatio(strength.likelihoodRatio, strength.gap, strength.overdispersion)}` +
          // Kass and Raftery's scale for a likelihood ratio: below 3 barely worth a mention, 3–20 positive, above strong.
          `${strength.likelihoodRatio < 3 ? " (weak)" : strength.likelihoodRatio < 20 ? " (positive)" : " (strong)"}.`
        : "."),
    ...(recipe === null
      ? []
      : [rank === 0 ? `The recipe's ${recipe} has no runs here.` : `The recipe's ${recipe} ranks ${rank} of ${scores.length}.`]),
  ];
}

/** Groups runs into candidates by `nameOf` (e.g. their padding reading or their loss), split by optimizer. */
export function candidatesBy(runs: readonly RunResultSummary[], nameOf: (r: RunResultSummary) => string): Candidate[] {
  const byName = new Map<string, Candidate>();
  for (const r of runs) {
    if (r.config.optimizer === "sgd") continue;
    const name = nameOf(r);
    const c = byName.get(name) ?? { name, runs: { RMSprop: [], Adam: [] } };
    (c.runs[OPTIMIZER_LABELS[r.config.optimizer]] as Array<readonly EpochLogs[]>).push(r.history);
    byName.set(name, c);
  }
  return [...byName.values()];
}

/** The name of a run's padding reading of conv 3–5 (paddingReadingName), e.g. `vvs`. */
export function readingName(r: RunResultSummary): string {
  return paddingReadingName(r.config.model?.paddings ?? REPORT_CNN_DEFAULTS.paddings);
}

/**
 * The seed-to-seed scale from the committed full-profile as-run results of the recipe the studies were scaled by
 * (clipped loss, padding sss; 3 seeds per optimizer): one group, so that another recipe's seeds neither widen the sd
 * with the gap between two means nor shift verdicts already drawn.
 */
export function reproductionScale(results: readonly RunResultSummary[]): ReturnType<typeof seedScale> {
  const asRun = results.filter(
    (r) =>
      r.config.schedule === "as-run" &&
      r.config.epochs === 40 &&
      r.config.trainLimit === null &&
      configLoss(r.config) === "clipped" &&
      readingName(r) === EARLIER_PADDING_READING,
  );
  const histories = (o: "rmsprop" | "adam") => asRun.filter((r) => r.config.optimizer === o).map((r) => r.history);
  return seedScale({ RMSprop: histories("rmsprop"), Adam: histories("adam") });
}

/** Every verdict 06_forensics states, from the committed summaries: `mnist-lab forensics summary` prints them. */
export function forensicVerdicts(forensicsDir: string, results: readonly RunResultSummary[]): Record<string, string[]> {
  const scale = reproductionScale(results);
  const padding = loadStudy("padding", forensicsDir);
  const headStart = loadStudy("head-start", forensicsDir).filter((r) => r.config.optimizer === "adam" && r.steps.length > 0);
  const collapse = loadStudy("collapse", forensicsDir).filter((r) => r.config.optimizer === "rmsprop");
  // The loss: the reading both losses were trained with, seed 1, over the epochs both have.
  const sameReading = [
    ...padding.filter((r) => readingName(r) === EARLIER_PADDING_READING),
    ...results.filter((r) => r.config.seed === 1 && readingName(r) === EARLIER_PADDING_READING),
  ];
  const verdicts: Record<string, string[]> = {
    loss: lossVerdict(
      rankCandidates(
        candidatesBy(sameReading, (r) => configLoss(r.config)).map((c) => ({
          ...c,
          runs: { RMSprop: c.runs.RMSprop.map((h) => h.slice(0, 5)), Adam: c.runs.Adam.map((h) => h.slice(0, 5)) },
        })),
        scale,
      ),
      recipeLossRanking(loadStudy("loss-confirm", forensicsDir), results, scale),
    ),
    headStart: [
      ...(headStart.length === 0
        ? ["No head-start runs committed yet: `mnist-lab forensics head-start` trains them."]
        : headStartVerdict(
            fitHeadStart(
              headStart.map((r) => r.steps),
              reportTwoEpochs(REPORT_EPOCH_LOGS.Adam),
            ),
          )),
      ...reenactVerdict(
        loadStudy("reenact", forensicsDir).find((r) => r.config.optimizer === "adam"),
        headStart.find((r) => r.config.seed === 1),
        scale,
      ),
      ...controlVerdict(
        loadStudy("control", forensicsDir).find((r) => r.config.optimizer === "adam" && r.config.startFrom),
        scale,
      ),
      ...recipeHeadStartCheck(recipeFirstEpochs(results, "head-start")),
      ...reenactVerdict(
        loadStudy("reenact-recipe", forensicsDir).find((r) => r.config.optimizer === "adam"),
        recipeRuns(results, "adam").find((r) => r.config.seed === 1),
        scale,
        "reenact-recipe",
      ),
    ],
    collapse: [
      ...(collapse.length === 0
        ? ["No collapse runs committed yet: `mnist-lab forensics collapse` trains them."]
        : collapseVerdict(collapseStudy(collapse))),
      ...recipeCollapseCheck(recipeFirstEpochs(results, "collapse")),
    ],
    padding: paddingVerdict(padding, loadStudy("padding-confirm", forensicsDir), scale),
  };
  return verdicts;
}

/** The screen's ranking when every reading has its two runs (one per optimizer); undefined before. */
function screenRanking(padding: readonly RunResultSummary[], scale: ReturnType<typeof seedScale>): CandidateScore[] | undefined {
  const candidates = candidatesBy(padding, readingName);
  const complete = paddingReadings().every(({ name }) =>
    candidates.some((c) => c.name === name && c.runs.RMSprop.length > 0 && c.runs.Adam.length > 0),
  );
  return complete ? rankCandidates(candidates, scale) : undefined;
}

/** The padding readings the finished screen leaves within reach of its best: padding-confirm trains them. */
export function paddingFinalists(forensicsDir: string, results: readonly RunResultSummary[]): string[] | undefined {
  const ranking = screenRanking(loadStudy("padding", forensicsDir), reproductionScale(results));
  return ranking && withinReach(ranking);
}

/**
 * The padding verdict: the screen's ranking (epochs 2–5, one seed) and its finalists, then, once every finalist has
 * its confirmation runs (two seeds of ten epochs per optimizer), their ranking over epochs 2–10.
 */
export function paddingVerdict(
  screen: readonly RunResultSummary[],
  confirm: readonly RunResultSummary[],
  scale: ReturnType<typeof seedScale>,
): string[] {
  const ranking = screenRanking(screen, scale);
  // Only readings with both optimizers' runs: one missing would drop its optimizer's figures from every score.
  const paired = candidatesBy(screen, readingName).filter((c) => c.runs.RMSprop.length > 0 && c.runs.Adam.length > 0);
  const screened = rankingVerdict("Padding (epochs 2–5 of the screen)", rankCandidates(paired, scale), REPORT_PADDING_READING);
  if (!ranking) {
    return [
      ...screened,
      `The screen is not complete: ${paired.length} of ${paddingReadings().length} readings have both optimizers' runs.`,
    ];
  }
  const finalists = withinReach(ranking);
  const lines = [
    ...screened,
    `Within reach of ${finalists[0]} (likelihood ratio below ${WITHIN_REACH_RATIO}): ` +
      `${finalists.length === 1 ? "none" : finalists.slice(1).join(", ")}; ` +
      `the confirmation trains ${finalists.join(", ")} ` +
      `for ${PADDING_CONFIRM.seeds.length} seeds × ${PADDING_CONFIRM.epochs} epochs per optimizer.`,
  ];
  const confirmed = candidatesBy(
    confirm.filter((r) => r.history.length >= PADDING_CONFIRM.epochs),
    readingName,
  ).filter((c) => finalists.includes(c.name));
  const full = (c: Candidate) =>
    c.runs.RMSprop.length >= PADDING_CONFIRM.seeds.length && c.runs.Adam.length >= PADDING_CONFIRM.seeds.length;
  if (confirmed.length < finalists.length || !confirmed.every(full)) {
    const done = confirm.filter((r) => finalists.includes(readingName(r)) && r.history.length >= PADDING_CONFIRM.epochs).length;
    const planned = finalists.length * PADDING_CONFIRM.seeds.length * 2;
    return [...lines, `Confirmation: ${done} of ${planned} runs committed; \`mnist-lab forensics padding-confirm\` trains the rest.`];
  }
  const what = `Padding (epochs 2–${PADDING_CONFIRM.epochs}, ${PADDING_CONFIRM.seeds.length} seeds per finalist and optimizer)`;
  const ranked = rankCandidates(confirmed, scale);
  const best = ranked[0].name;
  const layers = (name: string) => paddingReadings().find((r) => r.name === name)!;
  const { likelihoodRatio } = rankingStrength(ranked)!;
  const strength = likelihoodRatio < 3 ? "weakly" : likelihoodRatio < 20 ? "positively" : "strongly";
  return [
    ...lines,
    ...rankingVerdict(what, ranked, REPORT_PADDING_READING),
    best === REPORT_PADDING_READING
      ? `Verdict: the report's network was most likely ${best} (conv 1–5: valid, valid, ${layers(best).reading.join(", ")}; ` +
        `${layers(best).features} features), ${strength} ahead of ${ranked[1].name}; the recipe builds it. ` +
        `The loss, head-start and collapse studies ran earlier, on ${EARLIER_PADDING_READING}; ` +
        "the head-start and collapse sections ask their questions again of the recipe's full runs."
      : `Verdict: the confirmation favours ${best}, ${strength} over ${ranked[1].name}, but the recipe builds ` +
        `${REPORT_PADDING_READING}: REPORT_CNN_DEFAULTS.paddings should follow the evidence.`,
  ];
}

/** Every padding reading: its layers, size, the screen's runs and its distance to the report, ranked (06's table). */
export function paddingFrame(padding: readonly RunResultSummary[], results: readonly RunResultSummary[]): pl.DataFrame {
  const scores = rankCandidates(candidatesBy(padding, readingName), reproductionScale(results));
  const readings = paddingReadings();
  const scoreOf = (name: string) => scores.find((s) => s.name === name);
  const parameters = readings.map(({ reading }) => {
    const model = buildReportCnn({ paddings: ["valid", "valid", ...reading] });
    const count = model.countParams();
    model.dispose();
    return count;
  });
  return pl.DataFrame({
    reading: readings.map((r) => r.name),
    "conv 1–5 padding": readings.map((r) => ["valid", "valid", ...r.reading].join(", ")),
    features: pl.Series(
      "features",
      readings.map((r) => r.features),
      pl.Int32,
    ),
    parameters: pl.Series("parameters", parameters, pl.Int32),
    "RMSprop seeds": pl.Series(
      "RMSprop seeds",
      readings.map((r) => scoreOf(r.name)?.seeds.RMSprop ?? 0),
      pl.Int32,
    ),
    "Adam seeds": pl.Series(
      "Adam seeds",
      readings.map((r) => scoreOf(r.name)?.seeds.Adam ?? 0),
      pl.Int32,
    ),
    "mean z²": readings.map((r) => (scoreOf(r.name) ? Number(scoreOf(r.name)!.meanSquaredZ.toFixed(2)) : null)),
    rank: pl.Series(
      "rank",
      readings.map((r) => (scoreOf(r.name) ? scores.indexOf(scoreOf(r.name)!) + 1 : null)),
      pl.Int32,
    ),
  });
}

/**
 * The head start a re-enactment trains first, in whole steps (undefined without curves): the window fit over the
 * committed head-start study (reenact), or over the first epochs of the recipe's full Adam runs (reenact-recipe).
 */
export function fittedHeadStart(
  study: "reenact" | "reenact-recipe",
  forensicsDir: string,
  results: readonly RunResultSummary[],
): number | undefined {
  const curves =
    study === "reenact"
      ? loadStudy("head-start", forensicsDir).filter((r) => r.config.optimizer === "adam" && r.steps.length > 0)
      : recipeFirstEpochs(results, "head-start");
  if (curves.length === 0) return undefined;
  return Math.round(
    fitHeadStart(
      curves.map((r) => r.steps),
      reportTwoEpochs(REPORT_EPOCH_LOGS.Adam),
    ).offset.mean,
  );
}

/**
 * The re-enacted Adam fit (head start, then logged epochs) beside the report's lines, and against a fresh fit of the
 * same network and seed over the epochs both have.
 */
export function reenactVerdict(
  reenacted: RunResultSummary | undefined,
  fresh: RunResultSummary | undefined,
  scale: ReturnType<typeof seedScale>,
  study: "reenact" | "reenact-recipe" = "reenact",
): string[] {
  const where = study === "reenact" ? `on ${EARLIER_PADDING_READING}` : `on the recipe's network (${REPORT_PADDING_READING})`;
  if (!reenacted) {
    return [
      `No re-enactment ${where} committed yet: \`mnist-lab forensics ${study}\` trains it after ` +
        `${study === "reenact" ? "the head-start study" : "a full Adam run of the recipe is in results/"}.`,
    ];
  }
  const report = REPORT_EPOCH_LOGS.Adam;
  const line = (h: EpochLogs | ReportEpochLog) => `${f4(h.loss)} / ${f4(h.accuracy)} / ${f4(h.val_loss)} / ${f4(h.val_accuracy)}`;
  const lines = [
    `Re-enacted ${where}: ${reenacted.config.headStartSteps} steps, then a logged fit ` +
      "(loss / accuracy / val_loss / val_accuracy, ours vs the report's):",
  ];
  for (let e = 0; e < Math.min(3, reenacted.history.length); e++)
    lines.push(`Epoch ${e + 1}: ${line(reenacted.history[e])} vs ${line(report[e])}`);
  if (fresh) {
    const epochs = Math.min(reenacted.history.length, fresh.history.length);
    const cut = (r: RunResultSummary) => [r.history.slice(0, epochs)];
    const scores = rankCandidates(
      [
        { name: "the re-enacted fit", runs: { RMSprop: [], Adam: cut(reenacted) } },
        { name: "a fresh fit", runs: { RMSprop: [], Adam: cut(fresh) } },
      ],
      scale,
      1,
    );
    lines.push(...rankingVerdict(`Adam, epochs 1–${epochs}, seed ${reenacted.config.seed}`, scores, null));
  }
  return lines;
}

/**
 * The control: Adam started from a model RMSprop trained for 10 epochs. Its epoch-1 accuracy is set against the
 * report's with the seed-to-seed scale of a logged epoch's accuracy (both are draws, hence √2): far above, that story
 * is ruled out.
 */
export function controlVerdict(control: RunResultSummary | undefined, scale: ReturnType<typeof seedScale>): string[] {
  if (!control) return ["No control committed yet: `mnist-lab forensics control` trains it."];
  const e1 = control.history[0];
  const report = REPORT_EPOCH_LOGS.Adam[0];
  const sd = scale("Adam", "accuracy");
  const z = (e1.accuracy - report.accuracy) / (sd * Math.SQRT2);
  const seen =
    `Control: Adam from ${control.config.startFrom} prints epoch 1 at accuracy ${f4(e1.accuracy)}, val_accuracy ${f4(e1.val_accuracy)} ` +
    `(the report: ${f4(report.accuracy)}, ${f4(report.val_accuracy)})`;
  if (!Number.isFinite(z)) return [`${seen}; no seed-to-seed scale yet (3 full runs of Adam) to weigh the gap.`];
  const gap =
    `${f4(Math.abs(e1.accuracy - report.accuracy))} ${z > 0 ? "above" : "below"} it, ${Math.abs(z).toFixed(1)} times the ` +
    `seed-to-seed sd of a logged epoch's accuracy (${f4(sd)}, ×√2)`;
  return [
    `${seen}: ${gap}. ` +
      (Math.abs(z) > 3
        ? "So the report's Adam did not start from RMSprop's trained model."
        : "Within reach of seed noise: a start from RMSprop's trained model is not ruled out."),
  ];
}
