// The lab report's numbers and observations, checked against our own runs (never asserted: a notebook
// shows whether each holds).
import pl from "nodejs-polars";
import { mostConfusedUnorderedPairs, pairConfusion } from "./evaluate";

/** Validation accuracy the report reached after 40 epochs (优化器比较). */
export const REPORT_ACCURACY = { RMSprop: 0.9965, Adam: 0.9963 } as const;

export interface ObservationCheck {
  claim: string;
  holds: boolean;
  evidence: string;
}

type Confusions = { RMSprop: number[][]; Adam: number[][] };

/**
 * The report's reading of its confusion matrices: (4,9) is easily confused under both optimizers, and (0,6)
 * is confused a little more under RMSprop than under Adam.
 * @param topK how high a pair must rank among the most confused unordered pairs to count as "easily confused"
 */
export function checkReportObservations(confusions: Confusions, topK = 3): ObservationCheck[] {
  const rank = (m: number[][], a: number, b: number) => {
    const pairs = mostConfusedUnorderedPairs(m, 45);
    const i = pairs.findIndex((p) => p.a === a && p.b === b);
    return i < 0 ? Infinity : i + 1;
  };
  const describe = (m: number[][]) => mostConfusedUnorderedPairs(m, topK).map((p) => `(${p.a},${p.b}) ${p.count}`).join(", ");
  const rankR = rank(confusions.RMSprop, 4, 9);
  const rankA = rank(confusions.Adam, 4, 9);
  const r06 = pairConfusion(confusions.RMSprop, 0, 6);
  const a06 = pairConfusion(confusions.Adam, 0, 6);
  return [
    {
      claim: `(4,9) is among the ${topK} most confused pairs under both optimizers`,
      holds: rankR <= topK && rankA <= topK,
      evidence: `rank under RMSprop ${Number.isFinite(rankR) ? rankR : "–"} (top: ${describe(confusions.RMSprop)}); ` +
        `under Adam ${Number.isFinite(rankA) ? rankA : "–"} (top: ${describe(confusions.Adam)})`,
    },
    {
      claim: "(0,6) is confused more under RMSprop than under Adam",
      holds: r06 > a06,
      evidence: `0↔6 errors: RMSprop ${r06}, Adam ${a06}`,
    },
  ];
}

/** Our accuracy per optimizer beside the report's. */
export function accuracyComparisonFrame(accuracy: { RMSprop: number; Adam: number }): pl.DataFrame {
  const names = ["RMSprop", "Adam"] as const;
  return pl.DataFrame({
    optimizer: [...names],
    "our accuracy": names.map((n) => accuracy[n]),
    "report's accuracy": names.map((n) => REPORT_ACCURACY[n]),
    "difference (points)": names.map((n) => Math.round((accuracy[n] - REPORT_ACCURACY[n]) * 10000) / 100),
  });
}

/** The checks as a table. */
export function observationFrame(checks: ObservationCheck[]): pl.DataFrame {
  return pl.DataFrame({
    "the report says": checks.map((c) => c.claim),
    "holds here": checks.map((c) => (c.holds ? "yes" : "no")),
    evidence: checks.map((c) => c.evidence),
  });
}
