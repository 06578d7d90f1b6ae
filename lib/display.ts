import type pl from "nodejs-polars";
import { digitGridHtml, type DigitGridOptions } from "./digits";
import { figureHtml, type PlotlyFigure } from "./plots";
import { frameHtml } from "./tables";

interface TslabDisplay {
  html(s: string): void;
  text(s: string): void;
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
    tslabDisplay = jupyter.lastWriteDisplayData ? (require("tslab") as { display: TslabDisplay }).display : null;
  } catch {
    tslabDisplay = null;
  }
  return tslabDisplay;
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
