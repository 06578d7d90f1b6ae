import type pl from "nodejs-polars";
import { digitGridHtml, type DigitGridOptions } from "./digits";
import { figureHtml, type PlotlyFigure } from "./plots";
import { frameHtml } from "./tables";
import type { TrainProgress } from "./train";

interface TslabDisplay {
  html(s: string): void;
  text(s: string): void;
}

interface TslabModule {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

let tslabDisplay: TslabDisplay | null | undefined;
// plotly.js goes into the first figure a kernel shows; later figures reuse window.Plotly.
let plotlyShown = false;

/** tslab's display when this process is a tslab kernel, else null. */
function notebookDisplay(): TslabDisplay | null {
  if (tslabDisplay !== undefined) return tslabDisplay;
  try {
    // Loaded lazily: the CLI and tests never need tslab.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tslabDisplay = jupyter.lastWriteDisplayData ? tslab().display : null;
  } catch {
    tslabDisplay = null;
  }
  return tslabDisplay;
}

function tslab(): TslabModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("tslab") as TslabModule;
}

/** Whether output goes to a Jupyter notebook (a tslab kernel). */
export function inNotebook(): boolean {
  return notebookDisplay() !== null;
}

/**
 * Shows HTML in the notebook; outside one it does nothing. Returns nothing on purpose: tslab would
 * print a returned string as the cell's value.
 */
export function showHtml(html: string): void {
  notebookDisplay()?.html(html);
}

/** Shows a plotly figure; plotly.js is inlined with the first one, so the exported HTML works offline. */
export function showFigure(figure: PlotlyFigure): void {
  const inline = !plotlyShown && inNotebook();
  showHtml(figureHtml(figure, { includePlotlyJs: inline }));
  if (inline) plotlyShown = true;
}

/** Shows a polars DataFrame as an HTML table. */
export function showFrame(frame: pl.DataFrame, options?: { maxRows?: number; caption?: string }): void {
  showHtml(frameHtml(frame, options));
}

/** Shows a grid of digits with their labels (or the given captions). */
export function showDigits(images: Uint8Array | Float32Array, labels?: ArrayLike<number>, options?: DigitGridOptions): void {
  showHtml(digitGridHtml(images, labels, options));
}

/**
 * A progress bar that updates one notebook display in place (tslab's newDisplay), at most every
 * `intervalMs`; pass it as a training run's onProgress. Outside a notebook it does nothing.
 */
export function progressDisplay(options: { intervalMs?: number; label?: string } = {}): (p: TrainProgress) => void {
  const display = inNotebook() ? tslab().newDisplay() : null;
  const interval = options.intervalMs ?? 1000;
  let last = 0;
  return (p) => {
    if (!display) return;
    const now = performance.now();
    const finished = p.batch === p.batches;
    if (!finished && now - last < interval) return;
    last = now;
    const percent = Math.round((100 * p.batch) / Math.max(1, p.batches));
    const stats = p.phase === "train" ? ` — loss ${p.loss.toFixed(4)} — accuracy ${p.accuracy.toFixed(4)}` : "";
    display.html(
      `<div class="mnist-lab-progress" style="font:13px monospace">${options.label ? `${options.label} · ` : ""}epoch ${p.epoch}/${p.epochs} · ${p.phase} ` +
        `<progress max="100" value="${percent}" style="width:240px;vertical-align:middle"></progress> ${p.batch}/${p.batches} · ${p.seconds.toFixed(0)} s${stats}</div>`,
    );
  };
}
