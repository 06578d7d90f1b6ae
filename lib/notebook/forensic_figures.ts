// 06_forensics' figures: what the per-step histories show inside the report's first epochs.
import {
  KAGGLE_STEPS_PER_EPOCH,
  detectCollapse,
  logsAfterOffset,
  rollingAccuracy,
  type CollapseRule,
  COLLAPSE_RULE,
} from "../evaluation/forensics";
import type { RunResultSummary } from "../evaluation/results";
import type { PlotlyFigure } from "./plots";

/** Per-step rolling accuracy of each run (seed), with its collapse marked where the rule finds one. */
export function rollingAccuracyFigure(runs: readonly RunResultSummary[], title: string, rule: CollapseRule = COLLAPSE_RULE): PlotlyFigure {
  const data: Record<string, unknown>[] = [];
  for (const r of runs) {
    const rolling = rollingAccuracy(r.steps, rule.window);
    data.push({
      type: "scattergl",
      mode: "lines",
      name: `seed ${r.config.seed}`,
      x: rolling.map((_, i) => i + 1),
      y: rolling,
      line: { width: 1 },
    });
    const c = detectCollapse(r.steps, rule);
    if (c) {
      const at = r.steps.findIndex((s) => s.epoch === c.epoch && s.step === c.step);
      data.push({
        type: "scatter",
        mode: "markers",
        name: `seed ${r.config.seed}: collapse`,
        x: [at + 1],
        y: [rolling[at]],
        marker: { size: 10, symbol: "x" },
      });
    }
  }
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: `training step (rolling mean over ${rule.window} steps)` } },
      yaxis: { title: { text: "batch accuracy" } },
      height: 420,
    },
  };
}

/** What a logged epoch 1 would print after `offset` steps of earlier training, per seed, against the report's figure. */
export function headStartFigure(
  runs: readonly RunResultSummary[],
  reportAccuracy: number,
  stepsPerEpoch = KAGGLE_STEPS_PER_EPOCH,
): PlotlyFigure {
  const data: Record<string, unknown>[] = runs.map((r) => {
    const offsets = Array.from({ length: Math.max(0, r.steps.length - 2 * stepsPerEpoch + 1) }, (_, k) => k);
    return {
      type: "scattergl",
      mode: "lines",
      name: `seed ${r.config.seed}`,
      x: offsets,
      y: offsets.map((k) => logsAfterOffset(r.steps, k, stepsPerEpoch)[0].accuracy),
    };
  });
  data.push({
    type: "scatter",
    mode: "lines",
    name: "the report's epoch 1",
    x: [0, stepsPerEpoch],
    y: [reportAccuracy, reportAccuracy],
    line: { dash: "dash" },
  });
  return {
    data,
    layout: {
      title: { text: "Adam: epoch 1's accuracy if the logged fit began after k steps" },
      xaxis: { title: { text: "k: steps trained before the logged fit" } },
      yaxis: { title: { text: "epoch 1 accuracy" } },
      height: 400,
    },
  };
}
