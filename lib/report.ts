import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { MnistLabError } from "./errors";
import { projectRoot } from "./paths";

/** How much a notebook run does: `smoke` for CI (seconds), `quick` for the main job (minutes), `full` as the report. */
export type Profile = "smoke" | "quick" | "full";
export const PROFILES: readonly Profile[] = ["smoke", "quick", "full"];

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
 * TypeScript assignments for the injected-parameters cell (papermill's convention): the `parameters`
 * cell declares each knob with `let`, the injected cell assigns the run's value.
 * @example
 * parameterAssignments({ profile: "smoke" }); // 'profile = "smoke";'
 */
export function parameterAssignments(parameters: Record<string, unknown>): string {
  return Object.entries(parameters)
    .filter(([, v]) => v !== undefined)
    .map(([name, value]) => {
      if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new MnistLabError(`Expected a TypeScript identifier as parameter name but found ${JSON.stringify(name)}`);
      return `${name} = ${JSON.stringify(value)};`;
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
  const script = path.join(projectRoot(), "scripts", "execute_notebook.py");
  const args = [
    script, notebook,
    "--cwd", path.dirname(notebook),
    "--kernel", KERNEL_NAME,
    "--params", parameterAssignments(options.parameters ?? {}),
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
  /** Where the HTML goes (default reports/). */
  outDir?: string;
  /** Only these notebooks (file names or their NN prefixes); default all. */
  only?: string[];
  /** Called before and after each notebook. */
  onProgress?: (event: { notebook: string; phase: "start" | "done"; seconds?: number }) => void;
}

export interface ReportResult {
  profile: Profile;
  outDir: string;
  notebooks: NotebookRunResult[];
  seconds: number;
}

/**
 * Executes the notebooks in order with the profile injected and exports each to `<outDir>/<name>.html`
 * (executed copies under `<outDir>/executed/`). Stops at the first failing cell; outputs of a failed
 * notebook are not written, so the last good ones stay.
 */
export async function buildReport(options: ReportOptions): Promise<ReportResult> {
  if (!PROFILES.includes(options.profile)) {
    throw new MnistLabError(`Expected profile ${PROFILES.join(", ")} but found ${JSON.stringify(options.profile)}`);
  }
  const started = performance.now();
  const outDir = path.resolve(options.outDir ?? path.join(projectRoot(), "reports"));
  let notebooks = listNotebooks();
  if (options.only?.length) {
    const wanted = options.only;
    notebooks = notebooks.filter((nb) => wanted.some((w) => path.basename(nb) === w || path.basename(nb).startsWith(`${w}_`) || path.basename(nb, ".ipynb") === w));
    if (notebooks.length === 0) throw new MnistLabError(`Expected notebooks matching ${wanted.join(", ")} but found none in notebooks/`);
  }
  const results: NotebookRunResult[] = [];
  for (const notebook of notebooks) {
    const name = path.basename(notebook, ".ipynb");
    options.onProgress?.({ notebook: name, phase: "start" });
    const result = await executeNotebook(notebook, {
      parameters: { profile: options.profile },
      outHtml: path.join(outDir, `${name}.html`),
      outIpynb: path.join(outDir, "executed", `${name}.ipynb`),
    });
    options.onProgress?.({ notebook: name, phase: "done", seconds: result.seconds });
    results.push(result);
  }
  return { profile: options.profile, outDir, notebooks: results, seconds: (performance.now() - started) / 1000 };
}
