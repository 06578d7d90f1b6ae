// Figures of the report's evaluation section: confusion heatmaps (seaborn's `annot=True, cmap='YlGnBu', fmt="d"`),
// where two optimizers' matrices differ, and training curves. Each returns a PlotlyFigure; nothing is displayed.
import { MnistLabError, describeValue } from "../shared/errors";
import { compareConfusions } from "../evaluation/confusion";
import { epochBand, type SeedGroup } from "../evaluation/reproduction";
import type { ReportOptimizer } from "../training/optimizers";
import { OPTIMIZER_LABELS, REPORT_EPOCH_LOGS } from "../training/lab_report_log";
import type { PlotlyFigure } from "./plots";

/** A plotly colorscale: `[position in 0–1, css colour]`, low values first. */
export type Colorscale = [number, string][];

/** ColorBrewer YlGnBu (9 classes) as matplotlib has it: light yellow for low counts, dark blue for high. */
export const YLGNBU_COLORSCALE: Colorscale = [
  "#ffffd9",
  "#edf8b1",
  "#c7e9b4",
  "#7fcdbb",
  "#41b6c4",
  "#1d91c0",
  "#225ea8",
  "#253494",
  "#081d58",
].map((color, i, all) => [i / (all.length - 1), color]);

/** ColorBrewer RdBu (11 classes) reversed: blue below zero, near-white at zero, red above. */
export const DIVERGING_COLORSCALE: Colorscale = [
  "#053061",
  "#2166ac",
  "#4393c3",
  "#92c5de",
  "#d1e5f0",
  "#f7f7f7",
  "#fddbc7",
  "#f4a582",
  "#d6604d",
  "#b2182b",
  "#67001f",
].map((color, i, all) => [i / (all.length - 1), color]);

/** Text colours on light and dark cells (seaborn's ".15" grey and white). */
const DARK_TEXT = "#262626";
const LIGHT_TEXT = "#ffffff";

/** The colour a scale gives at `t` in [0, 1], linearly interpolated in sRGB as plotly does. */
export function colorAt(scale: Colorscale, t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let i = 1;
  while (i < scale.length - 1 && scale[i][0] < x) i++;
  const [p0, c0] = scale[i - 1];
  const [p1, c1] = scale[i];
  const f = p1 === p0 ? 0 : (x - p0) / (p1 - p0);
  const a = hexRgb(c0);
  const b = hexRgb(c1);
  return [0, 1, 2].map((k) => a[k] + f * (b[k] - a[k])) as [number, number, number];
}

function hexRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** WCAG relative luminance of an sRGB colour (0 black … 1 white). */
function relativeLuminance([r, g, b]: [number, number, number]): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Readable text on a cell of that colour: dark above luminance 0.408, as seaborn's annotated heatmaps choose. */
function textColorOn(rgb: [number, number, number]): string {
  return relativeLuminance(rgb) > 0.408 ? DARK_TEXT : LIGHT_TEXT;
}

function checkMatrix(m: readonly (readonly number[])[], name: string): number {
  if (!Array.isArray(m) || m.length === 0 || m.some((row) => !Array.isArray(row) || row.length !== m.length)) {
    throw new MnistLabError(`Expected ${name} to be a non-empty square matrix (array of rows) but found ${describeValue(m)}`);
  }
  return m.length;
}

/** An annotated heatmap of a square matrix: rows on y (0 at the top), columns on x. */
function annotatedHeatmap(
  z: (number | null)[][],
  options: {
    title: string;
    colorscale: Colorscale;
    zmin: number;
    zmax: number;
    format: (v: number) => string;
    hover: string;
    colorbarTitle: string;
  },
): PlotlyFigure {
  const n = z.length;
  const ticks = Array.from({ length: n }, (_, i) => i);
  const span = options.zmax - options.zmin;
  // Null cells (a hidden diagonal) stay blank: no colour, no text.
  const annotations = z.flatMap((row, r) =>
    row.flatMap((v, c) =>
      v === null
        ? []
        : [
            {
              x: c,
              y: r,
              xref: "x",
              yref: "y",
              text: options.format(v),
              showarrow: false,
              font: { size: 12, color: textColorOn(colorAt(options.colorscale, span === 0 ? 0 : (v - options.zmin) / span)) },
            },
          ],
    ),
  );
  return {
    data: [
      {
        type: "heatmap",
        z,
        x: ticks,
        y: ticks,
        colorscale: options.colorscale,
        zmin: options.zmin,
        zmax: options.zmax,
        xgap: 1,
        ygap: 1,
        hovertemplate: options.hover,
        colorbar: { title: { text: options.colorbarTitle } },
      },
    ],
    layout: {
      title: { text: options.title },
      xaxis: { title: { text: "predicted label" }, tickmode: "array", tickvals: ticks, showgrid: false, zeroline: false },
      // Rows top to bottom as the matrix prints (seaborn's orientation); square cells.
      yaxis: {
        title: { text: "true label" },
        tickmode: "array",
        tickvals: ticks,
        autorange: "reversed",
        scaleanchor: "x",
        constrain: "domain",
        showgrid: false,
        zeroline: false,
      },
      annotations,
      height: 520,
    },
  };
}

/**
 * The confusion matrix as an annotated heatmap: rows true labels (0 at the top), columns predictions,
 * YlGnBu from the smallest to the largest count, every cell labelled with its count.
 * @example
 * showFigure(confusionHeatmapFigure(adam.confusion, { title: "Adam" }));
 */
export function confusionHeatmapFigure(confusion: readonly (readonly number[])[], options: { title?: string } = {}): PlotlyFigure {
  checkMatrix(confusion, "confusion");
  const z = confusion.map((row) => [...row]);
  const values = z.flat();
  return annotatedHeatmap(z, {
    title: options.title ?? "Confusion matrix",
    colorscale: YLGNBU_COLORSCALE,
    zmin: Math.min(...values),
    zmax: Math.max(...values),
    format: (v) => String(Math.round(v)),
    hover: "true %{y}, predicted %{x}: %{z} images<extra></extra>",
    colorbarTitle: "images",
  });
}

/**
 * Where two confusion matrices differ: `a − b` per cell on a diverging palette centred at 0
 * (red: more images in that cell under `a`, blue: more under `b`).
 * @param options.names what `a` and `b` are, e.g. ["RMSprop", "Adam"]
 * @param options.hideDiagonal leave the diagonal blank, so the colours span only the confusions
 *   (a diagonal difference is minus its row's off-diagonal differences summed, so it outshines them)
 */
export function confusionDifferenceFigure(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  options: { names?: [string, string]; title?: string; hideDiagonal?: boolean } = {},
): PlotlyFigure {
  const [nameA, nameB] = options.names ?? ["A", "B"];
  const z: (number | null)[][] = compareConfusions(a, b).map((row, r) => row.map((v, c) => (options.hideDiagonal && r === c ? null : v)));
  // A symmetric range puts 0 at the palette's white middle.
  const extent = Math.max(1, ...z.flat().map((v) => Math.abs(v ?? 0)));
  return annotatedHeatmap(z, {
    title: options.title ?? `Confusion difference: ${nameA} − ${nameB}`,
    colorscale: DIVERGING_COLORSCALE,
    zmin: -extent,
    zmax: extent,
    format: (v) => (v > 0 ? `+${v}` : v < 0 ? `−${-v}` : "0"),
    hover: `true %{y}, predicted %{x}: %{z:+d} (${nameA} − ${nameB})<extra></extra>`,
    colorbarTitle: `${nameA} − ${nameB}`,
  });
}

/** Keras's `History`: `epoch` 0-based, `history[metric]` one value per epoch. */
export interface KerasHistory {
  epoch: number[];
  history: Record<string, number[]>;
}

/** A training history: Keras's History object, or one record per epoch (a run's history.csv rows). */
export type TrainingHistory = KerasHistory | ReadonlyArray<Readonly<Record<string, number>>>;

/** Other names Keras versions log a metric under. */
const METRIC_ALIASES: Record<string, string[]> = {
  accuracy: ["accuracy", "acc"],
  val_accuracy: ["val_accuracy", "val_acc"],
  lr: ["lr", "learning_rate"],
};

/**
 * One metric of a history by epoch, or undefined when it was not logged. `accuracy`/`acc`,
 * `val_accuracy`/`val_acc` and `lr`/`learning_rate` are the same metric.
 * @returns epochs 1-based, as Keras prints `Epoch 1/40`
 */
export function historySeries(history: TrainingHistory, metric: string): { epochs: number[]; values: number[] } | undefined {
  const names = METRIC_ALIASES[metric] ?? [metric];
  if (Array.isArray(history)) {
    const rows = history as ReadonlyArray<Readonly<Record<string, number>>>;
    const name = names.find((n) => rows.some((row) => typeof row[n] === "number"));
    if (name === undefined) return undefined;
    const kept = rows.map((row, i) => ({ row, i })).filter(({ row }) => typeof row[name] === "number");
    return {
      epochs: kept.map(({ row, i }) => (typeof row.epoch === "number" ? row.epoch + 1 : i + 1)),
      values: kept.map(({ row }) => row[name]),
    };
  }
  const keras = history as KerasHistory;
  if (!keras || typeof keras.history !== "object") {
    throw new MnistLabError(
      `Expected a Keras-like history ({ epoch, history }) or an array of epoch records but found ${describeValue(history)}`,
    );
  }
  const name = names.find((n) => Array.isArray(keras.history[n]));
  if (name === undefined) return undefined;
  const values = keras.history[name];
  const epochs = values.map((_, i) => (Array.isArray(keras.epoch) && typeof keras.epoch[i] === "number" ? keras.epoch[i] + 1 : i + 1));
  return { epochs, values: [...values] };
}

function historyKeys(history: TrainingHistory): string[] {
  if (Array.isArray(history)) return [...new Set(history.flatMap((row) => Object.keys(row)))];
  return Object.keys((history as KerasHistory).history ?? {});
}

function requireSeries(history: TrainingHistory, metric: string, owner: string): { epochs: number[]; values: number[] } {
  const series = historySeries(history, metric);
  if (!series) {
    const names = (METRIC_ALIASES[metric] ?? [metric]).map((n) => JSON.stringify(n)).join(" or ");
    throw new MnistLabError(`Expected ${names} in the history of ${owner} but found ${historyKeys(history).join(", ") || "no metrics"}`);
  }
  return series;
}

/** plotly.js's default colours, one per optimizer, so train and validation of one optimizer share a colour. */
const SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

/** An epoch axis with whole-number ticks (plotly would otherwise tick 1.5, 2.5 on short runs). */
function epochAxis(traces: { x: number[] }[]): Record<string, unknown> {
  const last = Math.max(1, ...traces.flatMap((t) => t.x));
  const step = [1, 2, 5, 10, 20, 50, 100].find((s) => last / s <= 10) ?? Math.ceil(last / 10);
  return { title: { text: "epoch" }, tick0: 0, dtick: step };
}

function checkHistories(histories: Record<string, TrainingHistory>): [string, TrainingHistory][] {
  const entries = Object.entries(histories ?? {});
  if (entries.length === 0) throw new MnistLabError("Expected at least one history (e.g. { RMSprop: …, Adam: … }) but found none");
  return entries;
}

/**
 * Training (solid) and validation (dashed) curves of one metric for every history, overlaid
 * (the report's 训练和验证准确率 figures, both optimizers on one chart). A history without the
 * validation metric gets only its training curve.
 * @example
 * showFigure(trainingCurvesFigure({ RMSprop: rmsprop.history, Adam: adam.history }, { metric: "accuracy" }));
 */
export function trainingCurvesFigure(
  histories: Record<string, TrainingHistory>,
  options: { metric?: "accuracy" | "loss"; title?: string } = {},
): PlotlyFigure {
  const metric = options.metric ?? "accuracy";
  if (metric !== "accuracy" && metric !== "loss") {
    throw new MnistLabError(`Expected metric "accuracy" or "loss" but found ${describeValue(metric)}`);
  }
  const data = checkHistories(histories).flatMap(([name, history], i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    const train = requireSeries(history, metric, name);
    const validation = historySeries(history, `val_${metric}`);
    const line = (series: { epochs: number[]; values: number[] }, part: string, dash: string) => ({
      type: "scatter",
      mode: "lines+markers",
      name: `${name} ${part}`,
      legendgroup: name,
      x: series.epochs,
      y: series.values,
      line: { color, dash },
      marker: { size: 4 },
    });
    return [line(train, "train", "solid"), ...(validation ? [line(validation, "validation", "dash")] : [])];
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? `Training and validation ${metric}` },
      xaxis: epochAxis(data),
      yaxis: { title: { text: metric } },
      hovermode: "x unified",
      height: 420,
    },
  };
}

const LR_DASHES = ["solid", "dot", "dashdot", "dash"];

/** The learning rate per epoch of every history on a log axis (ReduceLROnPlateau's steps show as drops). */
export function learningRateFigure(histories: Record<string, TrainingHistory>, options: { title?: string } = {}): PlotlyFigure {
  const data = checkHistories(histories).map(([name, history], i) => {
    const series = requireSeries(history, "lr", name);
    return {
      type: "scatter",
      mode: "lines+markers",
      name,
      x: series.epochs,
      y: series.values,
      // The rate is constant through an epoch, so draw steps; dashes keep equal schedules visible on top of each other.
      line: { color: SERIES_COLORS[i % SERIES_COLORS.length], shape: "hv", dash: LR_DASHES[i % LR_DASHES.length] },
      marker: { size: 4 },
    };
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? "Learning rate" },
      xaxis: epochAxis(data),
      yaxis: { title: { text: "learning rate" }, type: "log", exponentformat: "power" },
      hovermode: "x unified",
      height: 360,
    },
  };
}

const BAND_COLORS: Record<ReportOptimizer, [string, string]> = {
  rmsprop: ["#1f77b4", "rgba(31,119,180,0.2)"],
  adam: ["#ff7f0e", "rgba(255,127,14,0.2)"],
};

/** Validation accuracy per epoch: each group's min–max band over seeds and mean, with the report's logged epochs as markers. */
export function seedBandFigure(groups: readonly SeedGroup[], metric = "val_accuracy"): PlotlyFigure {
  const data: Record<string, unknown>[] = [];
  for (const g of groups) {
    const band = epochBand(g.runs, metric);
    const [line, fill] = BAND_COLORS[g.optimizer];
    const name = `${OPTIMIZER_LABELS[g.optimizer]} ${g.recipe}`;
    data.push({
      type: "scatter",
      mode: "lines",
      x: band.epochs,
      y: band.max,
      line: { width: 0 },
      showlegend: false,
      legendgroup: name,
      hoverinfo: "skip",
    });
    data.push({
      type: "scatter",
      mode: "lines",
      x: band.epochs,
      y: band.min,
      fill: "tonexty",
      fillcolor: fill,
      line: { width: 0 },
      name: `${name}: min–max of ${g.runs.length} seeds`,
      legendgroup: name,
    });
    data.push({
      type: "scatter",
      mode: "lines",
      x: band.epochs,
      y: band.mean,
      line: { color: line, dash: g.schedule === "as-run" ? "solid" : "dot" },
      name: `${name}: mean`,
      legendgroup: name,
    });
  }
  for (const optimizer of ["rmsprop", "adam"] as const) {
    const logs = REPORT_EPOCH_LOGS[OPTIMIZER_LABELS[optimizer]];
    const key = metric as "val_accuracy" | "val_loss" | "accuracy" | "loss";
    data.push({
      type: "scatter",
      mode: "markers",
      x: logs.map((l) => l.epoch),
      y: logs.map((l) => l[key]),
      marker: { color: BAND_COLORS[optimizer][0], symbol: "x", size: 9 },
      name: `${OPTIMIZER_LABELS[optimizer]}: the report's log`,
    });
  }
  // Accuracy near 1 is where the seeds differ, but every logged epoch stays in view (the report's RMSprop epoch 1: 0.8721).
  const lowest = Math.min(0.98, ...data.flatMap((d) => (Array.isArray(d.y) ? (d.y as number[]) : [])).filter((v) => Number.isFinite(v)));
  return {
    data,
    layout: {
      title: { text: `${metric} per epoch over seeds, with the report's first 10 epochs` },
      xaxis: { title: { text: "epoch" } },
      yaxis: { title: { text: metric }, range: metric.includes("acc") ? [Math.floor(lowest * 100 - 1) / 100, 1] : undefined },
      height: 460,
    },
  };
}
