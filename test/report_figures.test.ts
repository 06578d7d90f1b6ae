// Figures carry no plotly.js, yet render whatever ran before them: an executed notebook with figures holds no
// copy of the 4.8 MB bundle, its export holds exactly one, and a figure output alone on a page of the project's
// Jupyter (a re-run cell, a reloaded notebook) loads it from the server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { PLOTLY_STATIC_PATH, executeNotebook } from "mnist-lab";
import { launchChromium } from "./helpers/browser";
import { labNotebookDir, writeNotebook } from "./helpers/notebook_fixtures";

// A line of plotly.js's own source: each occurrence is one copy of the bundle.
const BUNDLE = "window.Plotly = Plotly";
const bundleCopies = (text: string) => text.split(BUNDLE).length - 1;
let executedText: string;
let executed: { cells: { outputs: { data?: Record<string, string | string[]> }[] }[] };
let exportedHtml: string;
let dir: string;

before(async () => {
  dir = labNotebookDir();
  const notebook = path.join(dir, "figures.ipynb");
  const figureCell = "lab.showFigure(figure);";
  writeNotebook(notebook, [
    'import * as lab from "mnist-lab";\nconst figure = lab.classDistributionFigure({ train: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });',
    figureCell,
    figureCell, // the same cell run a second time in the same kernel
  ]);
  const result = await executeNotebook(notebook, { outHtml: path.join(dir, "figures.html"), outIpynb: path.join(dir, "executed.ipynb") });
  executedText = fs.readFileSync(result.executed, "utf8");
  executed = JSON.parse(executedText);
  exportedHtml = fs.readFileSync(result.html, "utf8");
});

// Stands in for the project's Jupyter: serves plotly.js at <base>/static/plotly.min.js and pages that say their base.
let server: http.Server;
let baseUrl: string;
const pages = new Map<string, string>();
before(async () => {
  const plotly = fs.readFileSync(require.resolve("plotly.js-dist-min"));
  server = http.createServer((req, res) => {
    if (req.url === `/lab/${PLOTLY_STATIC_PATH}`) return res.writeHead(200, { "Content-Type": "text/javascript" }).end(plotly);
    if (req.url === "/favicon.ico") return res.writeHead(204).end();
    const page = pages.get(req.url ?? "");
    if (page) return res.writeHead(200, { "Content-Type": "text/html" }).end(page);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

/** Opens `url` in Chromium and returns how many plots rendered and what went wrong on the page. */
async function render(url: string): Promise<{ plots: number; errors: string[]; texts: string[] }> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => document.querySelectorAll(".mnist-lab-plot").length > 0, undefined, { timeout: 30_000 });
    await page.waitForTimeout(1000);
    const plots = await page.evaluate(
      () => Array.from(document.querySelectorAll(".mnist-lab-plot")).filter((e) => e.querySelector(".main-svg")).length,
    );
    const texts = await page.evaluate(() => Array.from(document.querySelectorAll(".mnist-lab-plot")).map((e) => e.textContent ?? ""));
    return { plots, errors, texts };
  } finally {
    await browser.close();
  }
}

const figureOutputs = (cell: number) => executed.cells[cell].outputs.map((o) => [o.data?.["text/html"] ?? ""].flat().join("")).join("");

test("an executed notebook with two figures holds no copy of plotly.js", () => {
  assert.equal(bundleCopies(executedText), 0);
  assert.ok(executedText.length < 100_000, `the executed notebook has ${executedText.length} characters`);
  assert.ok(figureOutputs(1).includes('class="mnist-lab-plot"') && figureOutputs(2).includes('class="mnist-lab-plot"'));
});

test("a figure output alone on a page of the project's Jupyter loads plotly.js from it and draws", { timeout: 120_000 }, async () => {
  pages.set("/lab/second-only", `<!doctype html><html><body data-base-url="/lab/">${figureOutputs(2)}</body></html>`);
  const { plots, errors, texts } = await render(`${baseUrl}/lab/second-only`);
  assert.deepEqual(errors, []);
  assert.equal(plots, 1, `rendered: ${JSON.stringify(texts)}`);
});

test("a figure output on a page that is no Jupyter of the project says so instead of failing silently", { timeout: 120_000 }, async () => {
  pages.set("/elsewhere", `<!doctype html><html><body>${figureOutputs(1)}</body></html>`);
  const { plots, texts } = await render(`${baseUrl}/elsewhere`);
  assert.equal(plots, 0);
  assert.deepEqual(texts, ["plotly.js is not loaded: this page is neither the project's Jupyter nor an export of it."]);
});

test("executeNotebook exports plotly.js exactly once and every figure renders from the file", { timeout: 120_000 }, async () => {
  assert.equal(bundleCopies(exportedHtml), 1, "one copy of plotly.js in the exported file");
  assert.equal(exportedHtml.split('class="mnist-lab-plot"').length - 1, 2, "both figures, drawn by the one copy");
  const file = path.join(dir, "exported.html");
  fs.writeFileSync(file, exportedHtml);
  const { plots, errors } = await render(`file://${file}`);
  assert.deepEqual(errors, []);
  assert.equal(plots, 2);
});
