import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../backend";
import { writeFileAtomicSync } from "../shared/atomic_file";
import { cleanUpOnSignal, processAlive } from "../shared/child_process";
import { MnistLabError, fsErrorCode, fsErrorReason } from "../shared/errors";
import { defaultReportsDir, projectRoot } from "../shared/paths";
import { PROFILES, type Profile } from "../training/profiles";
import { SCHEDULES, type Schedule } from "../training/runs";
import { profileScope } from "../evaluation/lab_report_observations";
import {
  NotebookCellError,
  combineNotebooks,
  describeNotebooks,
  executeNotebook,
  listNotebooks,
  selectNotebooks,
  type NotebookRunResult,
} from "./notebook_run";

// Our HTML export of the notebooks: execute each (notebook_run.ts), join them into one report with a manifest and
// a log, and move everything into place only when all succeeded.

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

/**
 * Executes the notebooks in order with the profile injected (papermill's convention) and writes one
 * offline HTML report, `<outDir>/mnist-report.html`, beside a run manifest; each notebook's own HTML and
 * executed copy go to `<outDir>/notebooks/`. Everything is built in a staging folder and moved into place
 * only when every notebook succeeded, so a failed run never overwrites the last good report. Every run
 * writes `<outDir>/mnist-report.log` (the kernels' stderr, a failing cell's whole output), which a failure's
 * message names. Staging folders of runs that were killed are removed by the next run.
 */
export async function buildHtmlReport(options: ReportOptions): Promise<ReportResult> {
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
      const results = await executeAll(notebooks, staging, parameters, options, { log, logFile });
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
      const notebookResults = moveIntoPlace(staging, outDir, combined, results);
      manifest.seconds = round((performance.now() - started) / 1000);
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

/** Executes each notebook into `staging/notebooks/`, in order, logging each one's stderr (and a failing cell's output). */
async function executeAll(
  notebooks: string[],
  staging: string,
  parameters: Record<string, unknown>,
  options: Pick<ReportOptions, "debug" | "onProgress">,
  logging: { log: string[]; logFile: string },
): Promise<NotebookRunResult[]> {
  const { log } = logging;
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
      throw err.withLog(logging.logFile);
    }
    log.push(
      `\n== ${path.basename(notebook)}: ok in ${result.seconds.toFixed(1)} s\n` +
        `-- stderr of nbclient and the kernel\n${result.stderr.trimEnd() || "(empty)"}`,
    );
    options.onProgress?.({ notebook: name, phase: "done", seconds: result.seconds });
    results.push(result);
  }
  return results;
}

/** Moves the staged files into `outDir`: notebooks first, the report and its manifest last. */
function moveIntoPlace(staging: string, outDir: string, combined: boolean, results: NotebookRunResult[]): NotebookRunResult[] {
  const finalNotebooks = path.join(outDir, "notebooks");
  fs.mkdirSync(finalNotebooks, { recursive: true });
  for (const f of fs.readdirSync(path.join(staging, "notebooks"))) {
    fs.renameSync(path.join(staging, "notebooks", f), path.join(finalNotebooks, f));
  }
  if (combined) {
    fs.renameSync(path.join(staging, MANIFEST_FILE), path.join(outDir, MANIFEST_FILE));
    fs.renameSync(path.join(staging, REPORT_FILE), path.join(outDir, REPORT_FILE));
  }
  return results.map((r) => {
    const name = path.basename(r.notebook, ".ipynb");
    return { ...r, html: path.join(finalNotebooks, `${name}.html`), executed: path.join(finalNotebooks, `${name}.ipynb`) };
  });
}

/** Writes the run's log beside the report (atomically: a reader never sees half of it). */
function writeLog(file: string, lines: string[]): void {
  try {
    writeFileAtomicSync(file, `${lines.join("\n")}\n`);
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

/** The backend the notebooks' kernels choose: the same selection (MNIST_BACKEND, then the chain) run here. */
async function kernelBackend(): Promise<string> {
  try {
    return (await initBackend()).active;
  } catch (err) {
    return `none available: ${(err as Error).message.split("\n")[0]}`;
  }
}

function reportIntro(manifest: ReportManifest, notebooks: string[]): string {
  const scope = profileScope(manifest.profile);
  const titles = describeNotebooks(notebooks).map((facts) => `- ${facts.title}`);
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
