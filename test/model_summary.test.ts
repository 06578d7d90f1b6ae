import { test } from "node:test";
import assert from "node:assert/strict";
import { REPORT_CNN_PARAMS, buildReportCnn, initBackend, modelSummaryFrame, modelSummaryRows, parameterCounts } from "mnist-lab";

test("modelSummaryRows lists the report's layers with Keras-style shapes and parameter counts", async () => {
  await initBackend("cpu");
  const model = buildReportCnn({ seed: 1 });
  const rows = modelSummaryRows(model);
  assert.equal(rows.length, 19);
  assert.deepEqual(rows[0], { ...rows[0], type: "Conv2D", outputShape: "(None, 24, 24, 64)", params: 1664 });
  assert.equal(rows.find((r) => r.layer === "flatten")!.outputShape, "(None, 1600)");
  assert.equal(rows.at(-1)!.outputShape, "(None, 10)");
  assert.equal(
    rows.reduce((n, r) => n + r.params, 0),
    REPORT_CNN_PARAMS,
  );
  assert.ok(
    rows.every((r) => r.role.length > 0),
    "every layer type is explained",
  );
  assert.deepEqual(parameterCounts(model), { total: 694154, trainable: 693514, nonTrainable: 640 });
  const frame = modelSummaryFrame(model);
  assert.deepEqual([frame.height, frame.columns[0], frame.columns.at(-1)], [19, "layer", "what it does"]);
  model.dispose();
});
