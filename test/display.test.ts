import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import pl from "nodejs-polars";
import { PNG } from "pngjs";
import {
  MnistLabError,
  classCountFrame,
  classDistributionFigure,
  digitGridHtml,
  digitPng,
  escapeHtml,
  figureHtml,
  frameHtml,
  frameMarkdown,
  inNotebook,
  PLOTLY_STATIC_PATH,
  showFigure,
  showHtml,
  showProfileScope,
  executeNotebook,
  withProgress,
} from "mnist-lab";
import { tinyImages } from "./helpers/idx_fixtures";
import { labNotebookDir, writeNotebook } from "./helpers/notebook_fixtures";

test("figureHtml draws a figure with Plotly.newPlot and carries no plotly.js, only where the project's Jupyter serves it", () => {
  const fig = classDistributionFigure({ train: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
  const html = figureHtml(fig, { id: "p1" });
  assert.match(html, /<div id="p1" class="mnist-lab-plot"/);
  assert.match(html, /P\.newPlot\(el,\[\{"type":"bar","name":"train"/);
  assert.ok(html.length < 5000, `${html.length} characters: no bundle`);
  assert.ok(html.includes(JSON.stringify(PLOTLY_STATIC_PATH)), "loads plotly.js from the Jupyter page's static path");
  assert.doesNotMatch(html, /<script[^>]+src=/, "no script tag points anywhere by itself");
});

test("frameHtml renders a polars DataFrame as a table, escaping text", () => {
  const html = frameHtml(pl.DataFrame({ digit: [0, 1], name: ["<zero>", "one"], share: [0.5, 0.25] }), { caption: "c" });
  assert.match(html, /^<table class="mnist-lab-table"><caption>c<\/caption><thead><tr><th>digit<\/th><th>name<\/th><th>share<\/th>/);
  assert.match(html, /<td>&lt;zero&gt;<\/td><td>0\.50<\/td>/);
  const long = frameHtml(pl.DataFrame({ x: Array.from({ length: 60 }, (_, i) => i) }), { maxRows: 5 });
  assert.match(long, /… 55 more rows/);
  assert.equal(escapeHtml(`a&"'`), "a&amp;&quot;&#39;");
});

test("frameHtml shows each numeric column with the fewest decimals, up to 4, that show all its values", () => {
  const html = frameHtml(
    pl.DataFrame({
      "s/epoch": [11.8, 12.3],
      "difference (points)": [-0.05, 0.07000000000000001],
      accuracy: [0.99123456, 0.99],
      "final lr": [0.001, 0.00001],
      images: [60000, 1720],
    }),
  );
  const cells = [...html.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(cells, ["11.8", "-0.05", "0.9912", "0.001", "60000", "12.3", "0.07", "0.9900", "1.000e-5", "1720"]);
});

test("frameMarkdown prints a Markdown table with frameHtml's number formats, escaping pipes", () => {
  const md = frameMarkdown(pl.DataFrame({ pair: ["(4,9)", "a|b"], share: [0.5, 0.25], images: [6, 12] }));
  assert.equal(md, "| pair | share | images |\n| --- | --- | --- |\n| (4,9) | 0.50 | 6 |\n| a\\|b | 0.25 | 12 |");
});

test("classCountFrame has a digit column and one column per split", () => {
  const frame = classCountFrame({ train: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], test: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1] });
  assert.deepEqual(frame.columns, ["digit", "train", "test"]);
  assert.equal(frame.height, 10);
});

test("digitPng encodes a 28×28 grayscale PNG of the chosen image", () => {
  const images = tinyImages(2);
  const png = PNG.sync.read(digitPng(images, 1));
  assert.deepEqual([png.width, png.height], [28, 28]);
  assert.equal(png.data[4 * 3], (7 + 3) % 256); // RGBA after decoding: pixel 3 of image 1
  assert.throws(() => digitPng(images, 2), /Expected an image index in \[0, 2\) but found 2/);
  const floats = Float32Array.from(images, (v) => v / 255);
  assert.deepEqual(PNG.sync.read(digitPng(floats, 1)).data, png.data);
});

test("digitGridHtml shows each chosen digit with its label", () => {
  const html = digitGridHtml(tinyImages(3), Uint8Array.of(7, 8, 9), { indices: [2, 0] });
  assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 2);
  assert.match(html, /<figcaption>9<\/figcaption>.*<figcaption>7<\/figcaption>/);
});

test("showHtml outside a notebook does nothing and returns nothing (tslab would print a value)", () => {
  assert.equal(inNotebook(), false);
  assert.equal(showHtml("<b>x</b>"), undefined);
});

test("showFigure and showProfileScope outside a notebook do nothing and return nothing", () => {
  assert.equal(showFigure(classDistributionFigure({ train: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] })), undefined);
  assert.equal(showProfileScope("smoke"), undefined);
});

test("withProgress outside a notebook runs the work, returns its value and passes on its error", async () => {
  const steps: string[] = [];
  const value = await withProgress("task", async (progress) => {
    progress.step("one", 1, 2);
    steps.push("one");
    return 42;
  });
  assert.equal(value, 42);
  assert.deepEqual(steps, ["one"]);
  await assert.rejects(
    withProgress("task", async () => {
      throw new MnistLabError("Expected x but found y");
    }),
    /Expected x but found y/,
  );
});

test(
  "progressDisplay draws in the cell that trains, not where it was made, and nothing for a run that loads",
  { timeout: 300_000 },
  async () => {
    const dir = labNotebookDir();
    const notebook = path.join(dir, "progress.ipynb");
    const data =
      "{ images: new Uint8Array(40 * 784).map((_, i) => (i * 7) % 256), labels: new Uint8Array(40).map((_, i) => i % 10), count: 40 }";
    const train =
      'await lab.trainRun({ optimizer: "rmsprop", epochs: 1, batchSize: 20, model: { filters: 2, denseUnits: 8 }, seed: 1 }, ' +
      `{ data: { train: split, test: split }, runsDir: ${JSON.stringify(path.join(dir, "runs"))}, backend: "cpu", loadModel: false, ` +
      "onProgress: progress });";
    writeNotebook(notebook, [
      `import * as lab from "mnist-lab";\nconst split = ${data};\nconst progress = lab.progressDisplay({ label: "experiment" });`,
      train,
      train, // the same run again: it loads
    ]);
    const result = await executeNotebook(notebook, {
      outHtml: path.join(dir, "progress.html"),
      outIpynb: path.join(dir, "executed.ipynb"),
    });
    const cells = (JSON.parse(fs.readFileSync(result.executed, "utf8")) as { cells: { outputs: { data?: Record<string, unknown> }[] }[] })
      .cells;
    const bars = (cell: number) => cells[cell].outputs.filter((o) => String(o.data?.["text/html"] ?? "").includes("mnist-lab-progress"));
    assert.equal(bars(0).length, 0, "nothing in the setup cell");
    assert.equal(bars(1).length, 1, "one bar in the cell that trains");
    assert.match(
      String(bars(1)[0].data!["text/html"]),
      /experiment · epoch 1\/1 · validate .* 1\/1 · /,
      "updated to the end, no stale starting …",
    );
    assert.equal(bars(2).length, 0, "no bar and no stale 'starting …' above a run that loads");
  },
);
