import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { NotebookCellError, buildReport, executeNotebook, listNotebooks, parameterAssignments } from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";

test("parameterAssignments writes papermill-style TypeScript assignments", () => {
  assert.equal(parameterAssignments({ profile: "smoke", epochs: 2, dataDir: null, skip: undefined }), 'profile = "smoke";\nepochs = 2;\ndataDir = null;');
  assert.throws(() => parameterAssignments({ "bad name": 1 }), /Expected a TypeScript identifier as parameter name but found "bad name"/);
});

test("listNotebooks finds the numbered notebooks in order", () => {
  const names = listNotebooks().map((p) => path.basename(p));
  assert.ok(names.length >= 1);
  assert.equal(names[0], "00_data.ipynb");
  assert.deepEqual([...names].sort(), names);
});

test("notebooks are stored without outputs", () => {
  for (const nb of listNotebooks()) {
    const cells = JSON.parse(fs.readFileSync(nb, "utf8")).cells as { outputs?: unknown[]; execution_count?: number | null }[];
    for (const cell of cells) {
      assert.deepEqual(cell.outputs ?? [], [], `${path.basename(nb)} has stored outputs`);
      assert.equal(cell.execution_count ?? null, null, `${path.basename(nb)} has an execution count`);
    }
  }
});

test("buildReport runs 00_data headless (smoke) and its HTML has the chart, the table and the report's shapes", async () => {
  const out = tempDir();
  const result = await buildReport({ profile: "smoke", outDir: out, only: ["00"] });
  assert.equal(result.notebooks.length, 1);
  const html = fs.readFileSync(path.join(out, "00_data.html"), "utf8");
  assert.ok(html.includes("Plotly.newPlot"), "class-distribution chart");
  assert.ok(html.includes("Images per class"), "chart title");
  assert.ok(html.includes('class="mnist-lab-table"'), "class-count table");
  assert.ok(html.includes("(60000, 28, 28, 1) (10000, 28, 28, 1) (60000, 10) (10000,)"), "shapes as the report prints them");
  assert.ok(html.includes("(10000, 10)"), "one-hot test labels");
  assert.ok(html.includes('class="mnist-lab-digits"'), "digit grid");
  assert.equal(html.split("window.Plotly = Plotly").length - 1, 1, "plotly.js inlined exactly once");
  assert.ok(!/<script[^>]+src="https?:/.test(html), "no script loaded from the network");
  const executed = JSON.parse(fs.readFileSync(path.join(out, "executed", "00_data.ipynb"), "utf8"));
  const stdout = executed.cells.flatMap((c: { outputs?: { name?: string; text?: string | string[] }[] }) => c.outputs ?? [])
    .filter((o: { name?: string }) => o.name === "stdout").map((o: { text: string | string[] }) => [o.text].flat().join("")).join("");
  assert.match(stdout, /^false\nfalse\n/m, "NaN checks print false for train and test");
});

test("executeNotebook names the notebook, the cell and the error of a failing cell, and writes nothing", async () => {
  const dir = tempDir();
  const notebook = path.join(dir, "broken.ipynb");
  const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
  fs.writeFileSync(notebook, JSON.stringify({
    cells: [cell("const a = 1;"), cell('throw new RangeError("boom at step two");'), cell("const c = 3;")],
    metadata: { kernelspec: { name: "mnist-lab", display_name: "TypeScript", language: "typescript" } },
    nbformat: 4, nbformat_minor: 5,
  }));
  const outHtml = path.join(dir, "out.html");
  await assert.rejects(executeNotebook(notebook, { outHtml, outIpynb: path.join(dir, "out.ipynb") }), (err: unknown) => {
    assert.ok(err instanceof NotebookCellError);
    assert.equal(err.message, "broken.ipynb: code cell 2 failed: RangeError: boom at step two");
    return true;
  });
  assert.equal(fs.existsSync(outHtml), false);
});
