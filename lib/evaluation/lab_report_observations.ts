// The lab report's numbers and observations, checked against our own runs (never asserted: a notebook
// shows whether each holds).
import pl from "nodejs-polars";
import { mostConfusedUnorderedPairs, pairConfusion } from "./confusion";
import { PROFILE_SETTINGS, type Profile } from "../training/profiles";
import { REPORT_FINAL_ACCURACY } from "../training/lab_report_log";
import { MNIST_TEST_IMAGES, MNIST_TRAIN_IMAGES } from "../data/data";

export interface ObservationCheck {
  claim: string;
  /** Null when the profile's models cannot speak to the claim (smoke). */
  holds: boolean | null;
  evidence: string;
  /** `yes`, `no`, or why it was not assessed; for quick, marked indicative. */
  verdict: string;
}

/**
 * How far a profile's runs speak to the report: `pipeline` only proves every step runs (smoke), `indicative`
 * shows the shape of the results at a smaller scale (quick), `reproduction` is the report's own setting (full).
 */
export const PROFILE_EVIDENCE: Record<Profile, "pipeline" | "indicative" | "reproduction"> = {
  smoke: "pipeline",
  quick: "indicative",
  full: "reproduction",
};

/** `2 epochs × 1,720 images`: a profile's training per optimizer. */
export function profileTrainingText(profile: Profile): string {
  const s = PROFILE_SETTINGS[profile];
  return `${s.epochs} epochs × ${(s.trainLimit ?? MNIST_TRAIN_IMAGES).toLocaleString("en-US")} images`;
}

/** A profile's size and what its runs can show about the report (PROFILE_SETTINGS' `canShow`), for notebooks and the report. */
export function profileScope(profile: Profile): { profile: Profile; training: string; validation: string; canShow: string } {
  const settings = PROFILE_SETTINGS[profile];
  // A profile's null limit means the whole split.
  const validation = `${(settings.validationLimit ?? MNIST_TEST_IMAGES).toLocaleString("en-US")} test images`;
  return { profile, training: profileTrainingText(profile), validation, canShow: settings.canShow };
}

type Confusions = { RMSprop: number[][]; Adam: number[][] };

/**
 * The report's reading of its confusion matrices: (4,9) is easily confused under both optimizers, and (0,6)
 * is confused a little more under RMSprop than under Adam. Under the smoke profile nothing is assessed
 * (`holds` is null); under quick the verdicts are marked indicative.
 * @param options.topK how high a pair must rank among the most confused unordered pairs to count as "easily confused"
 * @param options.profile the profile the runs were trained with (default full, the report's)
 */
export function checkReportObservations(confusions: Confusions, options: { topK?: number; profile?: Profile } = {}): ObservationCheck[] {
  const topK = options.topK ?? 3;
  const evidenceLevel = PROFILE_EVIDENCE[options.profile ?? "full"];
  const rank = (m: number[][], a: number, b: number) => {
    const pairs = mostConfusedUnorderedPairs(m, 45);
    const i = pairs.findIndex((p) => p.a === a && p.b === b);
    return i < 0 ? Infinity : i + 1;
  };
  const describe = (m: number[][]) =>
    mostConfusedUnorderedPairs(m, topK)
      .map((p) => `(${p.a},${p.b}) ${p.count}`)
      .join(", ");
  const rankR = rank(confusions.RMSprop, 4, 9);
  const rankA = rank(confusions.Adam, 4, 9);
  const r06 = pairConfusion(confusions.RMSprop, 0, 6);
  const a06 = pairConfusion(confusions.Adam, 0, 6);
  const judge = (holds: boolean): { holds: boolean | null; verdict: string } => {
    if (evidenceLevel === "pipeline")
      return { holds: null, verdict: `not assessed (${options.profile} profile: ${profileTrainingText(options.profile!)})` };
    const word = holds ? "yes" : "no";
    return { holds, verdict: evidenceLevel === "indicative" ? `${word} (indicative: ${options.profile} profile)` : word };
  };
  return [
    {
      claim: `(4,9) is among the ${topK} most confused pairs under both optimizers`,
      ...judge(rankR <= topK && rankA <= topK),
      evidence:
        `rank under RMSprop ${Number.isFinite(rankR) ? rankR : "–"} (top: ${describe(confusions.RMSprop)}); ` +
        `under Adam ${Number.isFinite(rankA) ? rankA : "–"} (top: ${describe(confusions.Adam)})`,
    },
    {
      claim: "(0,6) is confused more under RMSprop than under Adam",
      ...judge(r06 > a06),
      evidence: `0↔6 errors: RMSprop ${r06}, Adam ${a06}`,
    },
  ];
}

/**
 * Our accuracy per optimizer beside the report's. The difference is given only for the full profile; other
 * profiles train far less, so a note says so instead.
 */
export function accuracyComparisonFrame(accuracy: { RMSprop: number; Adam: number }, options: { profile?: Profile } = {}): pl.DataFrame {
  const names = ["RMSprop", "Adam"] as const;
  const profile = options.profile ?? "full";
  const columns: Record<string, (string | number)[]> = {
    optimizer: [...names],
    "our accuracy": names.map((n) => accuracy[n]),
    "report's accuracy": names.map((n) => REPORT_FINAL_ACCURACY[n]),
  };
  if (PROFILE_EVIDENCE[profile] === "reproduction") {
    columns["difference (points)"] = names.map((n) => Math.round((accuracy[n] - REPORT_FINAL_ACCURACY[n]) * 10000) / 100);
  } else {
    const note = `not comparable: ${profileTrainingText(profile)} here, ${profileTrainingText("full")} in the report`;
    columns.note = names.map(() => note);
  }
  return pl.DataFrame(columns);
}

/** The checks as a table. */
export function observationFrame(checks: ObservationCheck[]): pl.DataFrame {
  return pl.DataFrame({
    "the report says": checks.map((c) => c.claim),
    "holds here": checks.map((c) => c.verdict),
    evidence: checks.map((c) => c.evidence),
  });
}
