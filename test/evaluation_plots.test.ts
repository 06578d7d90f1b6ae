import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DIVERGING_COLORSCALE,
  YLGNBU_COLORSCALE,
  colorAt,
  confusionDifferenceFigure,
  confusionHeatmapFigure,
  figureHtml,
  historySeries,
  learningRateFigure,
  trainingCurvesFigure,
} from "mnist-lab";

type Annotation = { x: number; y: number; text: string; font: { color: string } };
type Trace = Record<string, any>;

/** A 10×10 confusion matrix with a heavy diagonal and a few errors, like a trained model's. */
function sampleConfusion(): number[][] {
  const m = Array.from({ length: 10 }, (_, r) => Array.from({ length: 10 }, (_, c) => (r === c ? 970 + r : 0)));
  m[4][9] = 7;
  m[9][4] = 5;
  m[0][6] = 3;
  return m;
}

test("confusionHeatmapFigure draws the matrix as is, one integer annotation per cell at (predicted, true)", () => {
  const m = sampleConfusion();
  const fig = confusionHeatmapFigure(m, { title: "Adam" });
  assert.equal(fig.data.length, 1);
  const trace = fig.data[0] as Trace;
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.z, m);
  assert.notEqual(trace.z, m, "a copy: later edits to the matrix do not change the figure");
  assert.deepEqual([trace.zmin, trace.zmax], [0, 979]);
  const annotations = fig.layout!.annotations as Annotation[];
  assert.equal(annotations.length, 100);
  for (const a of annotations) assert.equal(a.text, String(m[a.y][a.x]));
  assert.ok(
    annotations.some((a) => a.x === 9 && a.y === 4 && a.text === "7"),
    "row = true 4, column = predicted 9",
  );
  assert.equal((fig.layout!.title as { text: string }).text, "Adam");
});

test("confusionHeatmapFigure uses YlGnBu from light yellow (low) to dark blue (high) with readable text", () => {
  const fig = confusionHeatmapFigure(sampleConfusion());
  const trace = fig.data[0] as Trace;
  assert.equal(trace.colorscale, YLGNBU_COLORSCALE);
  assert.deepEqual(YLGNBU_COLORSCALE[0], [0, "#ffffd9"]);
  assert.deepEqual(YLGNBU_COLORSCALE.at(-1), [1, "#081d58"]);
  const annotations = fig.layout!.annotations as Annotation[];
  const at = (x: number, y: number) => annotations.find((a) => a.x === x && a.y === y)!;
  assert.equal(at(3, 3).font.color, "#ffffff", "white on the dark-blue diagonal");
  assert.equal(at(1, 0).font.color, "#262626", "dark on the pale-yellow zeros");
});

test("confusionHeatmapFigure puts predicted labels on x and true labels on y with 0 at the top", () => {
  const layout = confusionHeatmapFigure(sampleConfusion()).layout as Record<string, any>;
  assert.equal(layout.xaxis.title.text, "predicted label");
  assert.equal(layout.yaxis.title.text, "true label");
  assert.equal(layout.yaxis.autorange, "reversed");
  assert.deepEqual(layout.xaxis.tickvals, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(layout.yaxis.tickvals, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("confusionHeatmapFigure renders through figureHtml and rejects a non-square matrix", () => {
  const html = figureHtml(confusionHeatmapFigure(sampleConfusion()), { id: "cm" });
  assert.match(html, /\.newPlot\(el,\[\{"type":"heatmap"/);
  assert.throws(() => confusionHeatmapFigure([[1, 2], [3]]), /Expected confusion to be a non-empty square matrix/);
});

test("colorAt interpolates a colorscale linearly and clamps outside [0, 1]", () => {
  assert.deepEqual(colorAt(YLGNBU_COLORSCALE, 0), [255, 255, 217]);
  assert.deepEqual(colorAt(YLGNBU_COLORSCALE, 1), [8, 29, 88]);
  assert.deepEqual(colorAt(YLGNBU_COLORSCALE, 2), [8, 29, 88]);
  // Halfway between the first two stops (#ffffd9, #edf8b1).
  assert.deepEqual(colorAt(YLGNBU_COLORSCALE, 1 / 16), [246, 251.5, 197]);
  assert.deepEqual(colorAt(DIVERGING_COLORSCALE, 0.5), [247, 247, 247]);
});

test("confusionDifferenceFigure shows a − b on a diverging palette centred at 0", () => {
  const a = sampleConfusion();
  const b = sampleConfusion();
  b[0][6] = 1; // a confuses 0 → 6 twice more
  b[0][0] += 2;
  b[9][4] = 6;
  b[9][9] -= 1;
  const fig = confusionDifferenceFigure(a, b, { names: ["RMSprop", "Adam"] });
  const trace = fig.data[0] as Trace;
  assert.equal(trace.z[0][6], 2);
  assert.equal(trace.z[0][0], -2);
  assert.equal(trace.z[9][4], -1);
  assert.equal(trace.z[9][9], 1);
  assert.equal(trace.z.flat().filter((v: number) => v !== 0).length, 4);
  assert.deepEqual([trace.zmin, trace.zmax], [-2, 2]);
  assert.equal(trace.colorscale, DIVERGING_COLORSCALE);
  const annotations = fig.layout!.annotations as Annotation[];
  assert.equal(annotations.length, 100);
  const text = (x: number, y: number) => annotations.find((n) => n.x === x && n.y === y)!.text;
  assert.deepEqual([text(6, 0), text(0, 0), text(1, 1)], ["+2", "−2", "0"]);
  assert.equal((fig.layout!.title as { text: string }).text, "Confusion difference: RMSprop − Adam");
  assert.throws(() => confusionDifferenceFigure(a, [[1]]), /Expected two confusion matrices of the same size but found 10×10 and 1×1/);
});

test("confusionDifferenceFigure with hideDiagonal blanks the diagonal and scales colours to the confusions", () => {
  const a = sampleConfusion();
  const b = sampleConfusion();
  // a: 2 more 4 → 9 and 1 more 4 → 7 than b, so 3 fewer correct 4s.
  a[4][7] = 1;
  b[4][9] = 5;
  b[4][4] += 3;
  const shown = confusionDifferenceFigure(a, b).data[0] as Trace;
  assert.deepEqual([shown.zmin, shown.zmax], [-3, 3], "the diagonal's −3 sets the range");
  const fig = confusionDifferenceFigure(a, b, { hideDiagonal: true });
  const trace = fig.data[0] as Trace;
  assert.ok(trace.z.every((row: (number | null)[], r: number) => row[r] === null));
  assert.deepEqual([trace.z[4][9], trace.z[4][7]], [2, 1]);
  assert.deepEqual([trace.zmin, trace.zmax], [-2, 2], "only the confusions set the range");
  const annotations = fig.layout!.annotations as Annotation[];
  assert.equal(annotations.length, 90);
  assert.ok(annotations.every((n) => n.x !== n.y));
});

test("confusionDifferenceFigure of equal matrices is all zeros on a non-empty range", () => {
  const trace = confusionDifferenceFigure(sampleConfusion(), sampleConfusion()).data[0] as Trace;
  assert.ok(trace.z.flat().every((v: number) => v === 0));
  assert.deepEqual([trace.zmin, trace.zmax], [-1, 1]);
});

const kerasHistory = (acc: number[], valAcc: number[]) => ({
  epoch: acc.map((_, i) => i),
  history: { loss: acc.map((a) => 1 - a), acc, val_loss: valAcc.map((a) => 1 - a), val_acc: valAcc, lr: acc.map((_, i) => 0.001 / 2 ** i) },
});

test("trainingCurvesFigure overlays a solid train and a dashed validation curve per optimizer", () => {
  const rows = [
    { loss: 0.37, accuracy: 0.88, val_loss: 0.43, val_accuracy: 0.87, lr: 0.001 },
    { loss: 0.11, accuracy: 0.97, val_loss: 0.03, val_accuracy: 0.99, lr: 0.001 },
  ];
  const fig = trainingCurvesFigure({ RMSprop: rows, Adam: kerasHistory([0.97, 0.98], [0.976, 0.991]) }, { metric: "accuracy" });
  const traces = fig.data as Trace[];
  assert.deepEqual(
    traces.map((t) => t.name),
    ["RMSprop train", "RMSprop validation", "Adam train", "Adam validation"],
  );
  assert.deepEqual(
    traces.map((t) => t.line.dash),
    ["solid", "dash", "solid", "dash"],
  );
  assert.equal(traces[0].line.color, traces[1].line.color);
  assert.notEqual(traces[0].line.color, traces[2].line.color);
  assert.deepEqual(traces[0].x, [1, 2], "epochs 1-based");
  assert.deepEqual(traces[1].y, [0.87, 0.99]);
  assert.deepEqual(traces[3].y, [0.976, 0.991], "val_acc read as val_accuracy");
  assert.equal((fig.layout!.xaxis as { dtick: number }).dtick, 1, "whole epochs only");
  const forty = Array.from({ length: 40 }, (_, i) => 0.9 + i / 1000);
  assert.equal((trainingCurvesFigure({ Adam: kerasHistory(forty, forty) }).layout!.xaxis as { dtick: number }).dtick, 5);
  const loss = trainingCurvesFigure({ RMSprop: rows }, { metric: "loss" });
  assert.deepEqual(
    (loss.data as Trace[]).map((t) => t.y),
    [
      [0.37, 0.11],
      [0.43, 0.03],
    ],
  );
  assert.equal((loss.layout!.yaxis as { title: { text: string } }).title.text, "loss");
});

test("trainingCurvesFigure draws only the train curve without validation, and names missing metrics", () => {
  const fig = trainingCurvesFigure({ Adam: [{ loss: 0.5, accuracy: 0.8 }] });
  assert.equal(fig.data.length, 1);
  assert.throws(
    () => trainingCurvesFigure({ Adam: [{ loss: 0.5 }] }),
    /Expected "accuracy" or "acc" in the history of Adam but found loss/,
  );
  assert.throws(() => trainingCurvesFigure({}), /Expected at least one history/);
  assert.throws(
    () => trainingCurvesFigure({ Adam: [] }, { metric: "f1" as "loss" }),
    /Expected metric "accuracy" or "loss" but found "f1"/,
  );
});

test("historySeries reads Keras History objects and epoch rows, with metric aliases", () => {
  assert.deepEqual(historySeries(kerasHistory([0.5, 0.6], [0.4, 0.7]), "accuracy"), { epochs: [1, 2], values: [0.5, 0.6] });
  assert.deepEqual(historySeries([{ epoch: 4, learning_rate: 0.01 }], "lr"), { epochs: [5], values: [0.01] });
  assert.equal(historySeries([{ loss: 1 }], "val_loss"), undefined);
  assert.throws(() => historySeries({} as never, "loss"), /Expected a Keras-like history/);
});

test("learningRateFigure plots each optimizer's rate on a log axis", () => {
  const fig = learningRateFigure({ RMSprop: kerasHistory([0.9, 0.95, 0.97], [0.9, 0.9, 0.9]), Adam: [{ lr: 0.001 }, { lr: 0.0005 }] });
  const traces = fig.data as Trace[];
  assert.deepEqual(
    traces.map((t) => t.name),
    ["RMSprop", "Adam"],
  );
  assert.deepEqual(traces[0].y, [0.001, 0.0005, 0.00025]);
  assert.deepEqual(traces[1].x, [1, 2]);
  assert.notEqual(traces[0].line.dash, traces[1].line.dash, "equal schedules stay visible on top of each other");
  assert.equal((fig.layout!.yaxis as { type: string }).type, "log");
  assert.throws(() => learningRateFigure({ Adam: [{ loss: 1 }] }), /Expected "lr" or "learning_rate" in the history of Adam/);
});
