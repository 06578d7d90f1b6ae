import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "./backend";
import { MnistLabError } from "./errors";
import { projectRoot } from "./paths";
import { PROFILES, type Profile } from "./profiles";

/** The name of this project's tslab kernelspec, installed by set-up under .jupyter/. */
export const KERNEL_NAME = "mnist-lab";

export interface NotebookRunResult {
  notebook: string;
  html: string;
  executed: string;
  seconds: number;
}

/** A cell failed: names the notebook, the cell and the error. */
export class NotebookCellError extends MnistLabError {
  constructor(
    readonly notebook: string,
    readonly codeCell: number | null,
    readonly ename: string,
    readonly evalue: string,
  ) {
    super(`${notebook}: code cell ${codeCell ?? "?"} failed: ${ename}: ${evalue}`);
    this.name = "NotebookCellError";
  }
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
 * TypeScript for the injected-parameters cell (papermill's convention): the `parameters` cell declares
 * each knob with `let` and the injected cell assigns the run's value; a notebook without a `parameters`
 * cell gets declarations instead (`declare: true`).
 * @example
 * parameterAssignments({ profile: "smoke" }); // 'profile = "smoke";'
 */
export function parameterAssignments(parameters: Record<string, unknown>, options: { declare?: boolean } = {}): string {
  return Object.entries(parameters)
    .filter(([, v]) => v !== undefined)
    .map(([name, value]) => {
      if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new MnistLabError(`Expected a TypeScript identifier as parameter name but found ${JSON.stringify(name)}`);
      return `${options.declare ? "let " : ""}${name} = ${JSON.stringify(value)};`;
    })
    .join("\n");
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
 * A failing cell rejects with a NotebookCellError and writes nothing.
 */
export async function executeNotebook(
  notebook: string,
  options: { parameters?: Record<string, unknown>; outHtml: string; outIpynb: string; timeoutSeconds?: number },
): Promise<NotebookRunResult> {
  const started = performance.now();
  const args = [
    nbtool(), "execute", notebook,
    "--cwd", path.dirname(notebook),
    "--kernel", KERNEL_NAME,
    "--params", parameterAssignments(options.parameters ?? {}, { declare: !hasParametersCell(notebook) }),
    "--out-ipynb", options.outIpynb,
    "--out-html", options.outHtml,
    "--timeout", String(options.timeoutSeconds ?? 6 * 3600),
  ];
  const { code, stdout, stderr } = await run(debianPython(), args, jupyterEnv());
  if (code !== 0) {
    const line = stdout.trim().split("\n").pop() ?? "";
    let parsed: { error?: { notebook: string; codeCell: number | null; ename: string; evalue: string } } = {};
    try {
      parsed = JSON.parse(line);
    } catch {
      /* not our JSON: report stderr below */
    }
    if (parsed.error) throw new NotebookCellError(parsed.error.notebook, parsed.error.codeCell, parsed.error.ename, parsed.error.evalue);
    throw new MnistLabError(`Expected ${path.basename(notebook)} to execute but nbclient failed (exit ${code}):\n${stderr.trim().split("\n").slice(-15).join("\n")}`);
  }
  return { notebook, html: options.outHtml, executed: options.outIpynb, seconds: (performance.now() - started) / 1000 };
}

/** Whether a notebook has a cell tagged `parameters`. */
export function hasParametersCell(notebook: string): boolean {
  const cells = (JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: { metadata?: { tags?: string[] } }[] }).cells;
  return cells.some((c) => c.metadata?.tags?.includes("parameters"));
}

function nbtool(): string {
  return path.join(projectRoot(), "scripts", "nbtool.py");
}

/** Debian's Python, which has nbclient and nbconvert (a pyenv or venv python on PATH may not). */
function debianPython(): string {
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (err) => reject(new MnistLabError(`Expected to run ${cmd} but could not: ${err.message}`, { cause: err })));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface ReportOptions {
  profile: Profile;
  /** Injected into every notebook as `seed` (default 42, the notebooks' own default). */
  seed?: number;
  /** Where the report goes (default reports/). */
  outDir?: string;
  /** Only these notebooks (file names or their NN prefixes); default all. */
  only?: string[];
  /** Where the notebooks are (default notebooks/). */
  notebooksDir?: string;
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
  /** Per-notebook HTML exports and executed copies. */
  notebookResults: NotebookRunResult[];
}

export const REPORT_FILE = "mnist-report.html";
export const MANIFEST_FILE = "mnist-report.manifest.json";

/**
 * Executes the notebooks in order with the profile injected (papermill's convention) and writes one
 * offline HTML report, `<outDir>/mnist-report.html`, beside a run manifest; each notebook's own HTML and
 * executed copy go to `<outDir>/notebooks/`. Everything is built in a staging folder and moved into place
 * only when every notebook succeeded, so a failed run never overwrites the last good report.
 */
export async function buildReport(options: ReportOptions): Promise<ReportResult> {
  if (!PROFILES.includes(options.profile)) {
    throw new MnistLabError(`Expected profile ${PROFILES.join(", ")} but found ${JSON.stringify(options.profile)}`);
  }
  const started = performance.now();
  const outDir = path.resolve(options.outDir ?? path.join(projectRoot(), "reports"));
  const notebooks = selectNotebooks(listNotebooks(options.notebooksDir), options.only);
  fs.mkdirSync(outDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(outDir, ".staging-"));
  try {
    const parameters = { profile: options.profile, seed: options.seed ?? 42 };
    const results: NotebookRunResult[] = [];
    for (const notebook of notebooks) {
      const name = path.basename(notebook, ".ipynb");
      options.onProgress?.({ notebook: name, phase: "start" });
      const result = await executeNotebook(notebook, {
        parameters,
        outHtml: path.join(staging, "notebooks", `${name}.html`),
        outIpynb: path.join(staging, "notebooks", `${name}.ipynb`),
      });
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
    await combineNotebooks(results.map((r) => r.executed), path.join(staging, REPORT_FILE), reportIntro(manifest, notebooks));
    manifest.seconds = round((performance.now() - started) / 1000);
    fs.writeFileSync(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // Move into place: notebooks first, the report and its manifest last.
    const finalNotebooks = path.join(outDir, "notebooks");
    fs.mkdirSync(finalNotebooks, { recursive: true });
    for (const f of fs.readdirSync(path.join(staging, "notebooks"))) {
      fs.renameSync(path.join(staging, "notebooks", f), path.join(finalNotebooks, f));
    }
    fs.renameSync(path.join(staging, MANIFEST_FILE), path.join(outDir, MANIFEST_FILE));
    fs.renameSync(path.join(staging, REPORT_FILE), path.join(outDir, REPORT_FILE));
    const notebookResults = results.map((r) => {
      const name = path.basename(r.notebook, ".ipynb");
      return { ...r, html: path.join(finalNotebooks, `${name}.html`), executed: path.join(finalNotebooks, `${name}.ipynb`) };
    });
    return { ...manifest, outDir, notebookResults };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
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

function selectNotebooks(all: string[], only?: string[]): string[] {
  if (!only?.length) return all;
  const picked = all.filter((nb) => {
    const base = path.basename(nb);
    return only.some((w) => base === w || base === `${w}.ipynb` || base.startsWith(`${w}_`));
  });
  if (picked.length === 0) {
    throw new MnistLabError(`Expected notebooks matching ${only.join(", ")} but found none among ${all.map((n) => path.basename(n)).join(", ")}`);
  }
  return picked;
}

/** Joins executed notebooks into one offline HTML file (plotly.js kept once). */
export async function combineNotebooks(executed: string[], outHtml: string, introMarkdown: string): Promise<void> {
  const args = [nbtool(), "combine", "--title", "mnist-lab report", "--intro", introMarkdown, "--out-html", outHtml, ...executed];
  const { code, stderr } = await run(debianPython(), args, process.env);
  if (code !== 0) throw new MnistLabError(`Expected the notebooks to combine into ${outHtml} but nbconvert failed (exit ${code}):\n${stderr.trim().split("\n").slice(-10).join("\n")}`);
}

function reportIntro(manifest: ReportManifest, notebooks: string[]): string {
  const titles = notebooks.map((nb) => {
    const cells = JSON.parse(fs.readFileSync(nb, "utf8")).cells as { cell_type: string; source: string | string[] }[];
    const heading = cells.find((c) => c.cell_type === "markdown");
    const first = heading ? [heading.source].flat().join("").split("\n")[0].replace(/^#+\s*/, "") : path.basename(nb);
    return `- ${first}`;
  });
  return [
    "# MNIST handwritten-digit recognition with a CNN — mnist-lab report",
    "",
    `Profile **${manifest.profile}**, generated ${manifest.createdAt} with mnist-lab ${manifest.versions["mnist-lab"]}, ` +
      `TensorFlow.js ${manifest.versions["@tensorflow/tfjs-core"]} on Node.js ${manifest.versions.node}. ` +
      "Every number below was computed in this run; plots are interactive and work offline.",
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
