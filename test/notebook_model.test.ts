import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import * as lab from "mnist-lab";

// 01_model's cell writes the report's CNN out layer by layer; the library's builder (the CLI's, 02_train's) must be that network.

const NOTEBOOK = path.join(__dirname, "..", "notebooks", "01_model.ipynb");

/** Runs the notebook cell tagged `report-model` (TypeScript) with `lab` in scope and returns its `model`. */
function modelFromCell(edit: (source: string) => string = (s) => s): lab.tfl.Sequential {
  const cells = JSON.parse(fs.readFileSync(NOTEBOOK, "utf8")).cells as Array<{ metadata: { tags?: string[] }; source: string[] }>;
  const cell = cells.find((c) => c.metadata.tags?.includes("report-model"));
  assert.ok(cell, "01_model has a cell tagged report-model");
  const source = edit(cell.source.join("")).replace(/^model\.summary\(.*$/m, "");
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  return new Function("lab", `${js}\nreturn model;`)(lab) as lab.tfl.Sequential;
}

test("01_model's layer-by-layer cell builds exactly lab.buildReportCnn's network (694,154 parameters)", async () => {
  await lab.initBackend("cpu");
  const fromCell = modelFromCell();
  const check = lab.compareArchitectures(fromCell, lab.buildReportCnn());
  assert.deepEqual(check.differences, []);
  assert.deepEqual(check.parameters, [lab.REPORT_CNN_PARAMS, lab.REPORT_CNN_PARAMS]);
  fromCell.dispose();
});

test("compareArchitectures names the layer a change in the cell touches", async () => {
  await lab.initBackend("cpu");
  const changed = modelFromCell((s) =>
    s.replace("model.add(tfl.layers.dropout({ rate: 0.25 }));", "model.add(tfl.layers.dropout({ rate: 0.5 }));"),
  );
  const check = lab.compareArchitectures(changed, lab.buildReportCnn());
  assert.equal(check.same, false);
  assert.deepEqual(
    check.differences.map((d) => d.split(":")[0]),
    ["layer 6"],
  );
  assert.match(check.differences[0], /rate=0\.5 vs Dropout .* rate=0\.25/);
  changed.dispose();
});
