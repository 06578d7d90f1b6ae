import { spawn, type ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../backend";
import { MnistLabError, fsErrorCode, fsErrorReason } from "../shared/errors";
import { defaultReportsDir, projectRoot } from "../shared/paths";
import { PROFILES, type Profile } from "../training/profiles";
import { SCHEDULES, type Schedule } from "../training/runs";
import { profileScope } from "../evaluation/report_observations";

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

/** The names a notebook's `parameters` cell declares with `let`, or null when it has no such cell. */
export function declaredParameters(notebook: string): Set<string> | null {
  const cells = (
    JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: { metadata?: { tags?: string[] }; source: string | string[] }[] }
  ).cells;
  const cell = cells.find((c) => c.metadata?.tags?.includes("parameters"));
  if (!cell) return null;
  const source = [cell.source].flat().join("");
  return new Set([...source.matchAll(/^\s*let\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]));
}

function nbtool(): string {
  return path.join(projectRoot(), "scripts", "nbtool.py");
}

/** Debian's Python, which has nbclient and nbconvert (a pyenv or venv python on PATH may not). */
function debianPython(): string {
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/** Children that must stop with this process, and clean-ups to run if a signal ends it first. */
const tiedChildren = new Set<ChildProcess>();
const signalCleanups = new Set<() => void>();
const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function onStopSignal(signal: NodeJS.Signals): void {
  for (const child of tiedChildren) child.kill("SIGTERM");
  for (const cleanup of signalCleanups) {
    try {
      cleanup();
    } catch {
      /* best effort: the process is going down */
    }
  }
  tiedChildren.clear();
  signalCleanups.clear();
  updateSignalHandlers();
  // Listening replaced the default action (exit); take it again unless the host has handlers of its own.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function updateSignalHandlers(): void {
  const wanted = tiedChildren.size + signalCleanups.size > 0;
  for (const signal of STOP_SIGNALS) {
    const has = process.listeners(signal).includes(onStopSignal);
    if (wanted && !has) process.on(signal, onStopSignal);
    if (!wanted && has) process.off(signal, onStopSignal);
  }
}

/** Runs `cleanup` if SIGINT, SIGTERM or SIGHUP ends this process while `work` runs. */
async function cleanUpOnSignal<T>(cleanup: () => void, work: () => Promise<T>): Promise<T> {
  signalCleanups.add(cleanup);
  updateSignalHandlers();
  try {
    return await work();
  } finally {
    signalCleanups.delete(cleanup);
    updateSignalHandlers();
  }
}

/**
 * Runs a child that stops with this process: on SIGINT/SIGTERM/SIGHUP here it gets SIGTERM, and when this
 * process dies any other way (SIGKILL too) Linux sends it SIGTERM (nbtool asks for PR_SET_PDEATHSIG,
 * checking it against MNIST_LAB_PARENT_PID).
 */
function runTied(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...env, MNIST_LAB_PARENT_PID: String(process.pid) }, stdio: ["ignore", "pipe", "pipe"] });
    tiedChildren.add(child);
    updateSignalHandlers();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const done = () => {
      tiedChildren.delete(child);
      updateSignalHandlers();
    };
    child.on("error", (err) => {
      done();
      reject(new MnistLabError(`Expected to run ${cmd} but could not: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      done();
      resolve({ code: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1), stdout, stderr });
    });
  });
}

/** The command that starts nbtool (Debian's Python and the script), for the notebook command too. */
export function nbtoolCommand(): { python: string; script: string } {
  return { python: debianPython(), script: nbtool() };
}

export interface ReportOptions {
  profile: Profile;
  /** Injected into every notebook as `seed` (default 42, the notebooks' own default). */
  seed?: number;
  /** Injected as `schedule` into the notebooks that declare it (02_train, 03_evaluate); default theirs, `as-run`. */
  schedule?: Schedule;
  /** Where the report goes (default reports/). */
  outDir?: string;
  /** How errors name outDir (default "the report folder"; the CLI: `--out`). */
  outDirName?: string;
  /**
   * Only these notebooks (file names or their NN prefixes); default all. Only their own HTML and executed
   * copies in `<outDir>/notebooks/` are replaced: the combined report and its manifest stay as they were.
   */
  only?: string[];
  /** Where the notebooks are (default notebooks/). */
  notebooksDir?: string;
  /** Kernels print the stacks of MnistLabErrors too (MNIST_LAB_DEBUG=1). */
  debug?: boolean;
  /** Called before and after each notebook. */
  onProgress?: (event: { notebook: string; phase: "start" | "done"; seconds?: number }) => void;
}

export interface ReportManifest {
  profile: Profile;
  createdAt: string;
  report: string;
  versions: Record<string, string>;
  backend: string;
  parameters: Record<string, unknown>;
  notebooks: { name: string; seconds: number }[];
  seconds: number;
}

export interface ReportResult extends ReportManifest {
  outDir: string;
  /** Whether the combined report and its manifest were written (not with `only`). */
  combined: boolean;
  /** Per-notebook HTML exports and executed copies. */
  notebookResults: NotebookRunResult[];
  /** The log of this run: each notebook's stderr, and a failing cell's whole output. */
  log: string;
}

export const REPORT_FILE = "mnist-report.html";
export const MANIFEST_FILE = "mnist-report.manifest.json";
export const LOG_FILE = "mnist-report.log";
const STAGING_PREFIX = ".staging-";

/**
 * Executes the notebooks in order with the profile injected (papermill's convention) and writes one
 * offline HTML report, `<outDir>/mnist-report.html`, beside a run manifest; each notebook's own HTML and
 * executed copy go to `<outDir>/notebooks/`. Everything is built in a staging folder and moved into place
 * only when every notebook succeeded, so a failed run never overwrites the last good report. Every run
 * writes `<outDir>/mnist-report.log` (the kernels' stderr, a failing cell's whole output), which a failure's
 * message names. Staging folders of runs that were killed are removed by the next run.
 */
/** A path with its symlinks resolved, as far as it exists. */
function realPath(p: string): string {
  const resolved = path.resolve(p);
  return fs.existsSync(resolved) ? fs.realpathSync(resolved) : path.join(realPath(path.dirname(resolved)), path.basename(resolved));
}

/**
 * The report writes `<outDir>/notebooks/*.ipynb`: were that, or `outDir` itself, the source notebooks' folder or inside
 * it, executed copies with an injected parameters cell would replace the notebooks (`--out .` from the project root).
 */
function checkOutsideSources(outDir: string, sourcesDir: string): void {
  const sources = realPath(sourcesDir);
  for (const written of [outDir, path.join(outDir, "notebooks")]) {
    const real = realPath(written);
    if (real === sources || real.startsWith(`${sources}${path.sep}`)) {
      throw new MnistLabError(
        `Expected a report folder outside the source notebooks ${sources} (the report writes <out>/notebooks/) but found ${outDir}`,
      );
    }
  }
}

/** The longest name most Linux file systems take for one file or folder (NAME_MAX), in bytes. */
const NAME_MAX_BYTES = 255;

/**
 * Makes the report's folder (mkdir -p) and checks that files can be written there, or throws one line naming the
 * folder, what was expected and what was found: a file in the way, a name too long, a read-only file system, a
 * place where no folder can be made (/proc says ENOENT) — never a raw errno from deep inside the run. A folder
 * that is (or holds) the source notebooks is refused first, before anything is made there.
 * @param name how the caller names the folder (the CLI: `--out`)
 * @param notebooksDir the source notebooks (default notebooks/)
 */
export function prepareReportDir(outDir: string, name = "the report folder", notebooksDir?: string): string {
  const resolved = path.resolve(outDir);
  checkOutsideSources(resolved, notebooksDir ?? path.join(projectRoot(), "notebooks"));
  const expected = `Expected ${name} ${resolved} to be a folder the report can write in`;
  const long = resolved.split(path.sep).find((part) => Buffer.byteLength(part) > NAME_MAX_BYTES);
  if (long !== undefined) {
    throw new MnistLabError(
      `${expected} but the name ${JSON.stringify(`${long.slice(0, 24)}…`)} is ${Buffer.byteLength(long)} bytes, ` +
        `more than the ${NAME_MAX_BYTES} a file system takes`,
    );
  }
  let existing = resolved;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory()) {
    throw new MnistLabError(`${expected} but ${existing === resolved ? "it" : existing} is a file`);
  }
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch (err) {
    throw new MnistLabError(`${expected} but ${existing} cannot be written: ${fsErrorReason(err)}`);
  }
  try {
    // One level at a time: Node's recursive mkdir loops forever where mkdir says ENOENT under an existing folder (/proc).
    const missing: string[] = [];
    for (let p = resolved; p !== existing; p = path.dirname(p)) missing.unshift(p);
    for (const p of missing) fs.mkdirSync(p);
    const probe = path.join(resolved, `.write-check-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (err) {
    // A virtual file system (/proc, /sys) refuses folders with ENOENT or EPERM though its folders exist.
    const why =
      fsErrorCode(err) === "ENOENT" && existing !== resolved ? `no folder can be made in ${existing} (ENOENT)` : fsErrorReason(err);
    throw new MnistLabError(`${expected} but ${why}`);
  }
  return resolved;
}

export async function buildReport(options: ReportOptions): Promise<ReportResult> {
  if (!PROFILES.includes(options.profile)) {
    throw new MnistLabError(`Expected profile ${PROFILES.join(", ")} but found ${JSON.stringify(options.profile)}`);
  }
  if (options.schedule !== undefined && !SCHEDULES.includes(options.schedule)) {
    throw new MnistLabError(`Expected schedule ${SCHEDULES.join(" or ")} but found ${JSON.stringify(options.schedule)}`);
  }
  const started = performance.now();
  const outDir = path.resolve(options.outDir ?? defaultReportsDir());
  const notebooks = selectNotebooks(listNotebooks(options.notebooksDir), options.only);
  const combined = !options.only?.length;
  prepareReportDir(outDir, options.outDirName, options.notebooksDir);
  removeStaleStaging(outDir);
  // The pid in the name tells a later run whether this one is still alive.
  const staging = fs.mkdtempSync(path.join(outDir, `${STAGING_PREFIX}${process.pid}-`));
  const log: string[] = [`mnist-lab report, profile ${options.profile}, started ${new Date().toISOString()}`];
  const logFile = path.join(outDir, LOG_FILE);
  const removeStaging = () => fs.rmSync(staging, { recursive: true, force: true });
  try {
    const onSignal = () => {
      removeStaging();
      writeLog(logFile, [...log, "\n== stopped by a signal before the report was complete"]);
    };
    return await cleanUpOnSignal(onSignal, async () => {
      const parameters = { profile: options.profile, seed: options.seed ?? 42, schedule: options.schedule ?? "as-run" };
      const results: NotebookRunResult[] = [];
      for (const notebook of notebooks) {
        const name = path.basename(notebook, ".ipynb");
        options.onProgress?.({ notebook: name, phase: "start" });
        let result: NotebookRunResult;
        try {
          result = await executeNotebook(notebook, {
            parameters,
            debug: options.debug,
            outHtml: path.join(staging, "notebooks", `${name}.html`),
            outIpynb: path.join(staging, "notebooks", `${name}.ipynb`),
          });
        } catch (err) {
          if (!(err instanceof NotebookCellError)) throw err;
          log.push(`\n== ${path.basename(notebook)}: FAILED\n${err.message}`);
          if (err.details.text?.trim()) log.push(`\n-- the output of the failing cell\n${err.details.text.trimEnd()}`);
          log.push(`\n-- stderr of nbclient and the kernel\n${err.details.stderr?.trimEnd() || "(empty)"}`);
          throw err.withLog(logFile);
        }
        log.push(
          `\n== ${path.basename(notebook)}: ok in ${result.seconds.toFixed(1)} s\n` +
            `-- stderr of nbclient and the kernel\n${result.stderr.trimEnd() || "(empty)"}`,
        );
        options.onProgress?.({ notebook: name, phase: "done", seconds: result.seconds });
        results.push(result);
      }
      const manifest: ReportManifest = {
        profile: options.profile,
        createdAt: new Date().toISOString(),
        report: REPORT_FILE,
        versions: versions(),
        backend: await kernelBackend(),
        parameters,
        notebooks: results.map((r) => ({ name: path.basename(r.notebook), seconds: round(r.seconds) })),
        seconds: 0,
      };
      if (combined) {
        await combineNotebooks(
          results.map((r) => r.executed),
          path.join(staging, REPORT_FILE),
          reportIntro(manifest, notebooks),
        );
        manifest.seconds = round((performance.now() - started) / 1000);
        fs.writeFileSync(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      }
      // Move into place: notebooks first, the report and its manifest last.
      const finalNotebooks = path.join(outDir, "notebooks");
      fs.mkdirSync(finalNotebooks, { recursive: true });
      for (const f of fs.readdirSync(path.join(staging, "notebooks"))) {
        fs.renameSync(path.join(staging, "notebooks", f), path.join(finalNotebooks, f));
      }
      if (combined) {
        fs.renameSync(path.join(staging, MANIFEST_FILE), path.join(outDir, MANIFEST_FILE));
        fs.renameSync(path.join(staging, REPORT_FILE), path.join(outDir, REPORT_FILE));
      }
      manifest.seconds = round((performance.now() - started) / 1000);
      const notebookResults = results.map((r) => {
        const name = path.basename(r.notebook, ".ipynb");
        return { ...r, html: path.join(finalNotebooks, `${name}.html`), executed: path.join(finalNotebooks, `${name}.ipynb`) };
      });
      return { ...manifest, outDir, combined, notebookResults, log: logFile };
    });
  } catch (err) {
    if (!(err instanceof NotebookCellError)) log.push(`\n== FAILED\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    throw err;
  } finally {
    removeStaging();
    writeLog(logFile, log);
  }
}

/** Writes the run's log beside the report (atomically: a reader never sees half of it). */
function writeLog(file: string, lines: string[]): void {
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${lines.join("\n")}\n`);
    fs.renameSync(tmp, file);
  } catch {
    /* the log must never hide the run's own result or error */
  }
}

/** Removes `.staging-<pid>-*` folders whose run is gone (killed before it could clean up). */
export function removeStaleStaging(outDir: string): void {
  for (const entry of fs.readdirSync(outDir)) {
    if (!entry.startsWith(STAGING_PREFIX)) continue;
    const pid = Number(/^\.staging-(\d+)-/.exec(entry)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    fs.rmSync(path.join(outDir, entry), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The backend the notebooks' kernels choose: the same selection (MNIST_BACKEND, then the chain) run here. */
async function kernelBackend(): Promise<string> {
  try {
    return (await initBackend()).active;
  } catch (err) {
    return `none available: ${(err as Error).message.split("\n")[0]}`;
  }
}

/** Joins executed notebooks into one offline HTML file (plotly.js kept once). */
/** The last non-empty line a tool printed to stderr: what a one-line error quotes of it. */
function lastLine(stderr: string): string {
  return (
    stderr
      .trim()
      .split("\n")
      .filter((l) => l.trim())
      .pop() ?? "no output"
  );
}

export async function combineNotebooks(executed: string[], outHtml: string, introMarkdown: string): Promise<void> {
  const args = [nbtool(), "combine", "--title", "mnist-lab report", "--intro", introMarkdown, "--out-html", outHtml, ...executed];
  const { code, stderr } = await runTied(debianPython(), args, process.env);
  if (code !== 0) {
    const tail = lastLine(stderr);
    throw new MnistLabError(`Expected the notebooks to combine into ${outHtml} but nbconvert failed (exit ${code}): ${tail}`);
  }
}

function reportIntro(manifest: ReportManifest, notebooks: string[]): string {
  const scope = profileScope(manifest.profile);
  const titles = notebooks.map((nb) => {
    const cells = JSON.parse(fs.readFileSync(nb, "utf8")).cells as { cell_type: string; source: string | string[] }[];
    const heading = cells.find((c) => c.cell_type === "markdown");
    const first = heading
      ? [heading.source]
          .flat()
          .join("")
          .split("\n")[0]
          .replace(/^#+\s*/, "")
      : path.basename(nb);
    return `- ${first}`;
  });
  return [
    "# MNIST handwritten-digit recognition with a CNN — mnist-lab report",
    "",
    `Profile **${manifest.profile}**, seed ${manifest.parameters.seed}, learning-rate schedule ${manifest.parameters.schedule}; ` +
      `generated ${manifest.createdAt} with mnist-lab ${manifest.versions["mnist-lab"]}, ` +
      `TensorFlow.js ${manifest.versions["@tensorflow/tfjs-core"]} on Node.js ${manifest.versions.node}. ` +
      "Every number below was computed in this run; plots are interactive and work offline.",
    "",
    `Profile ${manifest.profile}: ${scope.training} per optimizer, validated on ${scope.validation}. What it can show: ${scope.canShow}.`,
    "",
    ...titles,
  ].join("\n");
}

function versions(): Record<string, string> {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string }).version;
    } catch {
      return "not installed";
    }
  };
  return {
    "mnist-lab": (JSON.parse(fs.readFileSync(path.join(projectRoot(), "package.json"), "utf8")) as { version: string }).version,
    node: process.versions.node,
    "@tensorflow/tfjs-core": version("@tensorflow/tfjs-core"),
    "@tensorflow/tfjs-layers": version("@tensorflow/tfjs-layers"),
    tslab: version("tslab"),
    "plotly.js-dist-min": version("plotly.js-dist-min"),
    "nodejs-polars": version("nodejs-polars"),
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
