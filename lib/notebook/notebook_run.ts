import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { lastLine, runTied } from "../shared/child_process";
import { MnistLabError } from "../shared/errors";
import { projectRoot } from "../shared/paths";

// Running notebooks headless: nbtool (scripts/nbtool.py, Debian's nbclient and nbconvert) executes a notebook
// with the project's tslab kernel and exports it, joins executed notebooks into one HTML file, and reads
// notebooks' facts. Notebook JSON is read there only.

/** The name of this project's tslab kernelspec, installed by set-up under .jupyter/. */
export const KERNEL_NAME = "mnist-lab";

export interface NotebookRunResult {
  notebook: string;
  html: string;
  executed: string;
  seconds: number;
  /** What nbclient and the kernel wrote to stderr (warnings, native code's messages). */
  stderr: string;
}

/** How a notebook failed: a cell threw, the kernel died, or an error was thrown later from a timer or promise. */
export type NotebookFailureKind = "cell" | "kernel" | "async";

/** A notebook failed: names the notebook, the cell and the error; keeps the cell's whole output and the kernel's stderr. */
export class NotebookCellError extends MnistLabError {
  constructor(
    readonly notebook: string,
    readonly codeCell: number | null,
    readonly ename: string,
    readonly evalue: string,
    readonly details: { kind?: NotebookFailureKind; text?: string; stderr?: string } = {},
  ) {
    super(describeNotebookFailure(notebook, codeCell, ename, evalue, details));
    this.name = "NotebookCellError";
  }

  /** The same error, its message naming the log that keeps the whole text. */
  withLog(logFile: string): NotebookCellError {
    const err = new NotebookCellError(this.notebook, this.codeCell, this.ename, this.evalue, this.details);
    err.message += ` (the cell's whole output and the kernel's stderr: ${logFile})`;
    return err;
  }
}

/** One line: where it failed and the first line of the error (the whole text goes to the report's log). */
function describeNotebookFailure(
  notebook: string,
  codeCell: number | null,
  ename: string,
  evalue: string,
  details: { kind?: NotebookFailureKind; stderr?: string },
): string {
  const firstLine = evalue.split("\n").find((l) => l.trim()) ?? "";
  const lastStderr = lastStderrMessage(details.stderr ?? "");
  const cell = `code cell ${codeCell ?? "?"}`;
  if (details.kind === "kernel") {
    return `${notebook}: ${cell} failed: ${firstLine}${lastStderr ? `; its last message on stderr: ${JSON.stringify(lastStderr)}` : ""}`;
  }
  if (details.kind === "async") {
    const where = codeCell === null ? "outside any cell's own run" : `while ${cell} ran`;
    return `${notebook}: an error was thrown from a timer or an unawaited promise ${where}: ${ename}: ${firstLine}`;
  }
  return `${notebook}: ${cell} failed: ${ename}: ${firstLine || "(no error text)"}`;
}

/**
 * The last line on stderr that says something: not Python's warnings, not the numbered frames or the banners
 * of a stack dump (Node prints one after `abort()`), which would hide the message before them.
 */
function lastStderrMessage(stderr: string): string | undefined {
  const noise = [/Warning\b/, /^\s*validate\(nb\)/, /^\s*\d+: /, /^-{3,}/, /^\s+at /, /^\s*$/];
  return stderr
    .split("\n")
    .filter((l) => !noise.some((n) => n.test(l)))
    .pop()
    ?.trim();
}

/** The notebooks in run order (`notebooks/NN_*.ipynb`). */
export function listNotebooks(dir = path.join(projectRoot(), "notebooks")): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * The notebooks `only` names (file names or their NN prefixes, e.g. `03` or `03_evaluate`), in run order;
 * all of them without `only`.
 */
export function selectNotebooks(all: string[], only?: string[]): string[] {
  if (!only?.length) return all;
  const matches = (nb: string, name: string) => {
    const base = path.basename(nb);
    return base === name || base === `${name}.ipynb` || base.startsWith(`${name}_`);
  };
  const unknown = only.filter((name) => !all.some((nb) => matches(nb, name)));
  if (unknown.length > 0) {
    const names = all.map((n) => path.basename(n, ".ipynb")).join(", ");
    throw new MnistLabError(
      `Expected notebooks among ${names} (or their numbers) but found ${unknown.map((w) => JSON.stringify(w)).join(", ")}`,
    );
  }
  return all.filter((nb) => only.some((name) => matches(nb, name)));
}

/**
 * TypeScript for the injected-parameters cell (papermill's convention): the `parameters` cell declares
 * each knob with `let` and the injected cell assigns the run's value; a notebook without a `parameters`
 * cell gets declarations instead (`declare: true`). Assignments go in a block because tslab shows the value
 * of a cell's last expression, which would print the last knob's value under the cell in the report.
 * @example
 * parameterAssignments({ profile: "smoke" }); // '{\n  profile = "smoke";\n}'
 */
export function parameterAssignments(parameters: Record<string, unknown>, options: { declare?: boolean } = {}): string {
  const statements = Object.entries(parameters)
    .filter(([, v]) => v !== undefined)
    .map(([name, value]) => {
      if (!/^[A-Za-z_$][\w$]*$/.test(name))
        throw new MnistLabError(`Expected a TypeScript identifier as parameter name but found ${JSON.stringify(name)}`);
      return `${options.declare ? "let " : ""}${name} = ${JSON.stringify(value)};`;
    });
  if (options.declare || statements.length === 0) return statements.join("\n");
  return `{\n${statements.map((s) => `  ${s}`).join("\n")}\n}`;
}

/** Environment for Jupyter: this project's kernelspec first, nothing global changed. */
export function jupyterEnv(): NodeJS.ProcessEnv {
  const own = path.join(projectRoot(), ".jupyter");
  const kernel = path.join(own, "kernels", KERNEL_NAME, "kernel.json");
  if (!fs.existsSync(kernel)) {
    throw new MnistLabError(`Expected the project's Jupyter kernel at ${kernel} but it does not exist; run \`npm run setup\``);
  }
  const jupyterPath = [own, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  return { ...process.env, JUPYTER_PATH: jupyterPath };
}

/**
 * Executes a notebook headless (nbclient, the project's tslab kernel, cwd = the notebook's folder) with
 * injected parameters, and writes the executed notebook and its HTML export atomically.
 * A failing cell, a dead kernel or an error thrown later from a timer or promise rejects with a
 * NotebookCellError and writes nothing. The tool and its kernel stop when this process exits, however it ends.
 * @param options.debug kernels print the stacks of MnistLabErrors too (MNIST_LAB_DEBUG=1)
 */
export async function executeNotebook(
  notebook: string,
  options: { parameters?: Record<string, unknown>; outHtml: string; outIpynb: string; timeoutSeconds?: number; debug?: boolean },
): Promise<NotebookRunResult> {
  const started = performance.now();
  const args = [
    nbtool(),
    "execute",
    notebook,
    "--cwd",
    path.dirname(notebook),
    "--kernel",
    KERNEL_NAME,
    "--params",
    notebookParameterAssignments(notebook, options.parameters ?? {}),
    "--out-ipynb",
    options.outIpynb,
    "--out-html",
    options.outHtml,
    "--timeout",
    String(options.timeoutSeconds ?? 6 * 3600),
  ];
  const env = { ...jupyterEnv(), ...(options.debug ? { MNIST_LAB_DEBUG: "1" } : {}) };
  const { code, stdout, stderr } = await runTied(debianPython(), args, env);
  if (code !== 0) {
    const line = stdout.trim().split("\n").pop() ?? "";
    let parsed: {
      error?: { notebook: string; codeCell: number | null; ename: string; evalue: string; kind?: NotebookFailureKind; text?: string };
    } = {};
    try {
      parsed = JSON.parse(line);
    } catch {
      /* not our JSON: report stderr below */
    }
    const e = parsed.error;
    if (e) throw new NotebookCellError(e.notebook, e.codeCell, e.ename, e.evalue, { kind: e.kind, text: e.text, stderr });
    const tail = lastLine(stderr);
    throw new NotebookCellError(path.basename(notebook), null, "nbclient", `nbclient failed (exit ${code}): ${tail}`, {
      kind: "kernel",
      stderr,
    });
  }
  return { notebook, html: options.outHtml, executed: options.outIpynb, seconds: (performance.now() - started) / 1000, stderr };
}

/**
 * The injected cell for one notebook: assignments to the knobs its `parameters` cell declares (a knob it lacks,
 * such as `schedule` in 00_data, is not its concern and is left out), or declarations of all of them when it has
 * no `parameters` cell.
 */
export function notebookParameterAssignments(notebook: string, parameters: Record<string, unknown>): string {
  const declared = declaredParameters(notebook);
  if (declared === null) return parameterAssignments(parameters, { declare: true });
  return parameterAssignments(Object.fromEntries(Object.entries(parameters).filter(([name]) => declared.has(name))));
}

/** What nbtool reads of a notebook: the knobs its `parameters` cell declares (null: no such cell) and its title. */
export interface NotebookFacts {
  notebook: string;
  parameters: string[] | null;
  title: string;
}

/** Reads notebooks' facts through nbtool, so that notebook JSON is parsed in one place (nbformat). */
export function describeNotebooks(notebooks: string[]): NotebookFacts[] {
  if (notebooks.length === 0) return [];
  const out = execFileSync(debianPython(), [nbtool(), "describe", ...notebooks], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out) as NotebookFacts[];
}

/** The names a notebook's `parameters` cell declares with `let`, or null when it has no such cell. */
export function declaredParameters(notebook: string): Set<string> | null {
  const { parameters } = describeNotebooks([notebook])[0];
  return parameters === null ? null : new Set(parameters);
}

function nbtool(): string {
  return path.join(projectRoot(), "scripts", "nbtool.py");
}

/** Debian's Python, which has nbclient and nbconvert (a pyenv or venv python on PATH may not). */
function debianPython(): string {
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/** The command that starts nbtool (Debian's Python and the script), for the notebook command too. */
export function nbtoolCommand(): { python: string; script: string } {
  return { python: debianPython(), script: nbtool() };
}

/** Joins executed notebooks into one offline HTML file (plotly.js kept once). */
export async function combineNotebooks(executed: string[], outHtml: string, introMarkdown: string): Promise<void> {
  const args = [nbtool(), "combine", "--title", "mnist-lab report", "--intro", introMarkdown, "--out-html", outHtml, ...executed];
  const { code, stderr } = await runTied(debianPython(), args, process.env);
  if (code !== 0) {
    const tail = lastLine(stderr);
    throw new MnistLabError(`Expected the notebooks to combine into ${outHtml} but nbconvert failed (exit ${code}): ${tail}`);
  }
}
