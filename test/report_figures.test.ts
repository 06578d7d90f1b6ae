// Figures render whatever ran before them: a figure cell run twice in one kernel still draws on a page
// holding only its own output (a re-run cell after a reload, a notebook exported after a re-run), and an
// exported notebook keeps one copy of plotly.js.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { executeNotebook } from "mnist-lab";
import { launchChromium } from "./helpers/browser";
import { labNotebookDir, writeNotebook } from "./helpers/notebook_fixtures";

const BUNDLE = "window.Plotly = Plotly";
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
  executed = JSON.parse(fs.readFileSync(result.executed, "utf8"));
  exportedHtml = fs.readFileSync(result.html, "utf8");
});

/** Opens `html` in Chromium and returns how many plots rendered and what went wrong on the page. */
async function render(html: string, file: string): Promise<{ plots: number; errors: string[]; texts: string[] }> {
  fs.writeFileSync(file, html);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    await page.goto(`file://${file}`, { waitUntil: "load" });
    await page.waitForFunction(() => document.querySelectorAll(".mnist-lab-plot").length > 0, undefined, { timeout: 30_000 });
    await page.waitForTimeout(500);
    const plots = await page.evaluate(
      () => Array.from(document.querySelectorAll(".mnist-lab-plot")).filter((e) => e.querySelector(".main-svg")).length,
    );
    const texts = await page.evaluate(() => Array.from(document.querySelectorAll(".mnist-lab-plot")).map((e) => e.textContent ?? ""));
    return { plots, errors, texts };
  } finally {
    await browser.close();
  }
}

test("showFigure: a figure cell run twice still renders on a page that holds only its own output", { timeout: 120_000 }, async () => {
  const second = executed.cells[2].outputs.map((o) => [o.data?.["text/html"] ?? ""].flat().join("")).join("");
  assert.ok(second.includes(BUNDLE), "the second run carries plotly.js too");
  const { plots, errors, texts } = await render(`<!doctype html><html><body>${second}</body></html>`, path.join(dir, "second-only.html"));
  assert.deepEqual(errors, []);
  assert.equal(plots, 1, `rendered: ${JSON.stringify(texts)}`);
});

test("executeNotebook exports plotly.js once and every figure renders from the file", { timeout: 120_000 }, async () => {
  assert.equal(exportedHtml.split(BUNDLE).length - 1, 1, "one copy of plotly.js in the exported file");
  const { plots, errors } = await render(exportedHtml, path.join(dir, "exported.html"));
  assert.deepEqual(errors, []);
  assert.equal(plots, 2);
});
