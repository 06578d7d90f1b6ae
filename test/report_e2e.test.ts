// The whole main job in smoke profile: every notebook executed headless into one report, which a real
// browser then opens from disk.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildHtmlReport, projectRoot, type ReportResult } from "mnist-lab";
import { launchChromium } from "./helpers/browser";
import { tempDir } from "./helpers/idx_fixtures";

let out: string;
let result: ReportResult;
let html: string;

before(async () => {
  out = tempDir();
  result = await buildHtmlReport({ profile: "smoke", outDir: out });
  html = fs.readFileSync(path.join(out, "mnist-report.html"), "utf8");
});

test("buildHtmlReport smoke runs every notebook into one report with a manifest", () => {
  const notebooks = fs
    .readdirSync(path.join(projectRoot(), "notebooks"))
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort();
  assert.deepEqual(
    result.notebooks.map((n) => n.name),
    notebooks,
  );
  for (const nb of notebooks) assert.ok(fs.existsSync(path.join(out, "notebooks", nb.replace(".ipynb", ".html"))));
  const manifest = JSON.parse(fs.readFileSync(path.join(out, "mnist-report.manifest.json"), "utf8"));
  assert.equal(manifest.notebooks.length, notebooks.length);
  assert.deepEqual(manifest.parameters, { profile: "smoke", seed: 42, schedule: "as-run" });
  assert.ok(html.includes("Profile <strong>smoke</strong>, seed 42, learning-rate schedule as-run;"), "the report's intro");
  for (const nb of notebooks) {
    const cells = JSON.parse(fs.readFileSync(path.join(out, "notebooks", nb), "utf8")).cells as {
      metadata: { tags?: string[] };
      outputs?: unknown[];
    }[];
    const injected = cells.filter((c) => c.metadata.tags?.includes("injected-parameters"));
    assert.equal(injected.length, 1, `${nb}: one injected-parameters cell`);
    assert.deepEqual(injected[0].outputs, [], `${nb}: the injected cell prints nothing`);
  }
  assert.ok(manifest.notebooks.every((n: { seconds: number }) => n.seconds > 0));
});

test("the data section shows the chart, the table, the NaN checks and the report's shapes", () => {
  assert.ok(html.includes("Images per class"), "class-distribution chart");
  assert.ok(html.includes('class="mnist-lab-table"'), "class-count table");
  assert.ok(html.includes("(60000, 28, 28, 1) (10000, 28, 28, 1) (60000, 10) (10000,)"), "shapes as the report prints them");
  assert.ok(html.includes("(10000, 10)"), "one-hot test labels");
  assert.ok(html.includes('class="mnist-lab-digits"'), "digit grid");
  const executed = JSON.parse(fs.readFileSync(path.join(out, "notebooks", "00_data.ipynb"), "utf8"));
  const stdout = executed.cells
    .flatMap((c: { outputs?: { name?: string; text?: string | string[] }[] }) => c.outputs ?? [])
    .filter((o: { name?: string }) => o.name === "stdout")
    .map((o: { text: string | string[] }) => [o.text].flat().join(""))
    .join("");
  const nanChecks = [
    "np.isnan(x_train).any() is False: none of its 47,040,000 values is NaN",
    "np.isnan(x_test).any() is False: none of its 7,840,000 values is NaN",
  ];
  assert.ok(stdout.includes(`${nanChecks.join("\n")}\n`), "NaN checks answer the report's question in a sentence for train and test");
});

test("the training and evaluation sections show Keras logs, curves, heatmaps and the observation checks", () => {
  assert.match(html, /Epoch 1\/\d+/, "Keras epoch header");
  assert.match(
    html,
    /- \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}(?! - lr)/,
    "Keras 2.3 verbose=2 line, no lr field",
  );
  for (const title of ["Adam — confusion matrix", "RMSprop — confusion matrix", "The report's CNN, layer by layer"])
    assert.ok(html.includes(title), title);
  assert.ok(html.includes("the report says"), "observation table");
  assert.ok(html.includes("report&#39;s accuracy") || html.includes("report's accuracy"), "accuracy comparison");
});

test("the report inlines plotly.js once and references nothing outside the file", () => {
  assert.equal(html.split("window.Plotly = Plotly").length - 1, 1);
  assert.ok(!/<script[^>]+src=/i.test(html), "no external scripts");
  assert.ok(!/<link[^>]+href="https?:/i.test(html), "no external stylesheets");
  assert.ok(!/<img[^>]+src="https?:/i.test(html), "no external images");
});

test("the report opens offline in Chromium: every plot renders, no console error, no network request", async () => {
  const expectedPlots = html.split('class="mnist-lab-plot"').length - 1;
  assert.ok(expectedPlots >= 1, "at least the class-distribution chart");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(err.message));
    page.on("request", (req) => {
      if (!/^(file|data|blob|about):/.test(req.url())) requests.push(req.url());
    });
    await page.goto(`file://${path.join(out, "mnist-report.html")}`, { waitUntil: "load" });
    await page.waitForFunction((n) => document.querySelectorAll(".mnist-lab-plot .main-svg").length >= n, expectedPlots, {
      timeout: 60_000,
    });
    const rendered = await page.evaluate(() => document.querySelectorAll(".mnist-lab-plot.js-plotly-plot").length);
    assert.equal(rendered, expectedPlots, "every plot div became a plotly chart");
    // Beside the report in its temporary folder: tests write nothing into the project.
    await page.screenshot({ path: path.join(out, "report.png"), fullPage: true });
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
  }
});

test("the report's Chinese headings render with a CJK font, not as boxes", { timeout: 120_000 }, async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`file://${path.join(out, "mnist-report.html")}`, { waitUntil: "load" });
    const marked = await page.evaluate(() => {
      const heading = Array.from(document.querySelectorAll("h1, h2, h3, h4")).find((h) => /空值判断/.test(h.textContent ?? ""));
      heading?.setAttribute("data-cjk-probe", "");
      return heading?.textContent ?? null;
    });
    assert.ok(marked, "00_data's heading with 空值判断");
    // Chromium names the fonts it drew a node's text with (set-up installs Debian's fonts-noto-cjk).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "[data-cjk-probe]" });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    assert.ok(
      fonts.some((f) => /CJK/i.test(f.familyName)),
      `fonts used for ${JSON.stringify(marked)}: ${fonts.map((f) => f.familyName).join(", ")}`,
    );
  } finally {
    await browser.close();
  }
});
