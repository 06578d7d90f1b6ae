import { inspect } from "node:util";
import type pl from "nodejs-polars";
import { digitGridHtml, type DigitGridOptions } from "./digits";
import { MnistLabError } from "../shared/errors";
import { throwIfCellInterrupted } from "../shared/interrupts";
import { installCellInterrupts } from "./cell_interrupts";
import { figureHtml, type PlotlyFigure } from "./plots";
import type { Profile } from "../training/profiles";
import { profileScope } from "../evaluation/lab_report_observations";
import { escapeHtml, frameHtml } from "./tables";
import type { TrainProgress } from "../training/train";

interface TslabDisplay {
  html(s: string): void;
  text(s: string): void;
}

interface TslabModule {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

let tslabDisplay: TslabDisplay | null | undefined;

/** tslab's display when this process is a tslab kernel, else null. */
function notebookDisplay(): TslabDisplay | null {
  if (tslabDisplay !== undefined) return tslabDisplay;
  try {
    // Loaded lazily: the CLI and tests never need tslab.
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    tslabDisplay = jupyter.lastWriteDisplayData ? tslab().display : null;
  } catch {
    tslabDisplay = null;
  }
  return tslabDisplay;
}

function tslab(): TslabModule {
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
  throwIfCellInterrupted("showing a result");
  notebookDisplay()?.html(html);
}

/**
 * Shows a plotly figure. It carries no plotly.js: the project's Jupyter serves it to the live page and an export
 * inlines it once (see figureHtml), so it draws whatever ran before: a re-run cell, a reloaded notebook, any export.
 */
export function showFigure(figure: PlotlyFigure): void {
  if (inNotebook()) showHtml(figureHtml(figure));
}

/**
 * Shows a profile's size and what its runs can show about the report (profileScope): a smoke run checks the
 * pipeline and must not read as a failed reproduction.
 */
export function showProfileScope(profile: Profile): void {
  const scope = profileScope(profile);
  showHtml(
    `<div class="mnist-lab-scope" style="border-left:4px solid #888;padding:4px 10px;margin:4px 0;font:13px sans-serif">` +
      `<b>Profile ${escapeHtml(profile)}</b>: ${escapeHtml(scope.training)} per optimizer, validated on ${escapeHtml(scope.validation)}. ` +
      `What it can show: ${escapeHtml(scope.canShow)}.</div>`,
  );
}

/** Shows a polars DataFrame as an HTML table. */
export function showFrame(frame: pl.DataFrame, options?: { maxRows?: number; caption?: string }): void {
  showHtml(frameHtml(frame, options));
}

/** Shows a grid of digits with their labels (or the given captions). */
export function showDigits(images: Uint8Array | Float32Array, labels?: ArrayLike<number>, options?: DigitGridOptions): void {
  showHtml(digitGridHtml(images, labels, options));
}

/** The cell that runs now, by the display writer tslab gives each execution (null outside a notebook). */
function currentCell(): unknown {
  if (!inNotebook()) return null;
  return (require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown }).lastWriteDisplayData ?? null;
}

/**
 * A progress bar that updates one notebook display in place (tslab's newDisplay), at most every
 * `intervalMs`; pass it as a training run's onProgress. The bar appears in the cell that trains, when its training
 * starts (above the epoch lines it logs), a new one in each cell that trains: made in a setup cell, it draws nothing
 * there, and a run that loads finished draws none. Outside a notebook it does nothing.
 */
export function progressDisplay(options: { intervalMs?: number; label?: string } = {}): (p: TrainProgress) => void {
  const interval = options.intervalMs ?? 1000;
  const label = options.label ? `${escapeHtml(options.label)} · ` : "";
  let display: TslabDisplay | null = null;
  let displayCell: unknown = null;
  let last = 0;
  return (p) => {
    const cell = currentCell();
    if (cell === null) return;
    if (display === null || cell !== displayCell || p.phase === "start") {
      display = tslab().newDisplay();
      displayCell = cell;
      last = 0;
    }
    if (p.phase === "start") {
      display.html(`<div class="mnist-lab-progress" style="font:13px monospace">${label}starting …</div>`);
      return;
    }
    const now = performance.now();
    const finished = p.batch === p.batches;
    if (!finished && now - last < interval) return;
    last = now;
    const percent = Math.round((100 * p.batch) / Math.max(1, p.batches));
    const stats = p.phase === "train" ? ` — loss ${p.loss.toFixed(4)} — accuracy ${p.accuracy.toFixed(4)}` : "";
    display.html(
      `<div class="mnist-lab-progress" style="font:13px monospace">` +
        `${label}epoch ${p.epoch}/${p.epochs} · ${p.phase} ` +
        `<progress max="100" value="${percent}" style="width:240px;vertical-align:middle"></progress> ` +
        `${p.batch}/${p.batches} · ${p.seconds.toFixed(0)} s${stats}</div>`,
    );
  };
}

/** What a long-running cell reports while it works; see {@link withProgress}. */
export interface TaskProgress {
  /** Names the current step and, when known, how much of it is done (`done` of `total`). */
  step(text: string, done?: number, total?: number): void;
}

/**
 * Runs `work` under a one-line progress display that updates in place: the label, the current step, a bar
 * when the step gives `done`/`total`, and the seconds elapsed, ticking every `intervalMs` so that a long
 * step never looks stuck. It ends with the total time (or where it failed). Outside a notebook it only runs `work`.
 * @example
 * const model = await withProgress("Loading the model", async (progress) => {
 *   progress.step("reading weights");
 *   return loadRunModel(run);
 * });
 */
export async function withProgress<T>(
  label: string,
  work: (progress: TaskProgress) => Promise<T>,
  options: { intervalMs?: number } = {},
): Promise<T> {
  throwIfCellInterrupted(label);
  const display = inNotebook() ? tslab().newDisplay() : null;
  const started = performance.now();
  let step = "";
  let bar = "";
  const render = (state?: string) => {
    const seconds = (performance.now() - started) / 1000;
    const tail = state ?? `${step ? `${escapeHtml(step)} ` : ""}${bar}· ${seconds.toFixed(0)} s`;
    display?.html(`<div class="mnist-lab-progress" style="font:13px monospace">${escapeHtml(label)} · ${tail}</div>`);
  };
  let rendered = 0;
  const progress: TaskProgress = {
    step(text, done, total) {
      const changed = text !== step;
      step = text;
      bar =
        done !== undefined && total !== undefined && total > 0
          ? `<progress max="${total}" value="${Math.min(done, total)}" style="width:160px;vertical-align:middle"></progress> ` +
            `${done}/${total} `
          : "";
      // A new step shows at once; a step's own ticks at most ten times a second.
      if (changed || done === total || performance.now() - rendered >= 100) {
        rendered = performance.now();
        render();
      }
    },
  };
  render();
  const ticker = display ? setInterval(() => render(), options.intervalMs ?? 1000) : null;
  try {
    const result = await work(progress);
    render(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    render(`failed after ${((performance.now() - started) / 1000).toFixed(1)} s${step ? ` (${escapeHtml(step)})` : ""}`);
    throw err;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/** Whether this process is a tslab kernel (`tslab kernel …`), where cells print thrown errors with util.inspect. */
function isTslabKernel(): boolean {
  return /[\\/]tslab[\\/]bin[\\/]tslab$/.test(process.argv[1] ?? "") && process.argv[2] === "kernel";
}

/**
 * In a tslab kernel, a MnistLabError (a message meant for the user: what is missing and what makes it) prints as
 * one line instead of its stack, as the CLI prints it; `MNIST_LAB_DEBUG=1` (`mnist-lab --debug notebook|report`)
 * keeps the stack. Done on import because tslab offers no hook, and only in its kernels: tests and the CLI are untouched.
 */
function printUserErrorsAsOneLine(): void {
  Object.defineProperty(MnistLabError.prototype, inspect.custom, {
    configurable: true,
    value(this: MnistLabError) {
      return process.env.MNIST_LAB_DEBUG === "1" ? this.stack : `${this.name}: ${this.message}`;
    },
  });
}

if (isTslabKernel()) {
  printUserErrorsAsOneLine();
  installCellInterrupts(require("tslab/dist/jupyter"));
}
