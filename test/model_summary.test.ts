import { test } from "node:test";
import assert from "node:assert/strict";
import {
  REPORT_CNN_PARAMS,
  buildReportCnn,
  initBackend,
  modelSummaryFrame,
  modelSummaryRows,
  modelSummaryText,
  parameterCounts,
  tfl,
} from "mnist-lab";

test("modelSummaryRows lists the report's layers with Keras-style shapes and parameter counts", async () => {
  await initBackend("cpu");
  const model = buildReportCnn({ seed: 1 });
  const rows = modelSummaryRows(model);
  assert.equal(rows.length, 19);
  assert.deepEqual(rows[0], { ...rows[0], type: "Conv2D", outputShape: "(None, 24, 24, 64)", params: 1664 });
  assert.equal(rows.find((r) => r.layer === "flatten")!.outputShape, "(None, 256)");
  assert.equal(rows.at(-1)!.outputShape, "(None, 10)");
  assert.equal(
    rows.reduce((n, r) => n + r.params, 0),
    REPORT_CNN_PARAMS,
  );
  assert.ok(
    rows.every((r) => r.role.length > 0),
    "every layer type is explained",
  );
  assert.deepEqual(parameterCounts(model), { total: 350090, trainable: 349450, nonTrainable: 640 });
  const frame = modelSummaryFrame(model);
  assert.deepEqual([frame.height, frame.columns[0], frame.columns.at(-1)], [19, "layer", "what it does"]);
  model.dispose();
});

test("modelSummaryRows describes each layer from its own config: dropout 0.5 and 32 filters say 50% and 32 filters", async () => {
  await initBackend("cpu");
  const model = buildReportCnn({ seed: 1, filters: 32, convDropout: 0.5, denseDropout: 0.5 });
  const roles = modelSummaryRows(model).map((r) => `${r.type}: ${r.role}`);
  assert.equal(
    roles[0],
    "Conv2D: 32 filters of 5×5 slide over the image ('valid': 28×28×1 → 24×24×32); " +
      "relu keeps training fast, adds non-linearity and avoids vanishing gradients",
  );
  assert.ok(
    roles
      .filter((r) => r.startsWith("Dropout"))
      .every((r) => r === "Dropout: drops 50% of the activations while training, against overfitting"),
  );
  assert.ok(roles.includes("Flatten: turns the 2×2×32 feature maps into one vector of 128"));
  assert.ok(roles.includes("MaxPooling2D: keeps the largest value of each 2×2 window (stride 2): 20×20×32 → 10×10×32"));
  assert.ok(!roles.some((r) => /64|25%|vector of 256/.test(r)), `nothing of the report's CNN: ${roles.join(" | ")}`);
  model.dispose();
  const small = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({ units: 16, activation: "tanh" }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  assert.deepEqual(
    modelSummaryRows(small).map((r) => r.role),
    [
      "turns the 28×28×1 feature maps into one vector of 784",
      "fully connected: 16 tanh units",
      "10 softmax outputs that form a probability distribution over the digits",
    ],
  );
  small.dispose();
});

test("modelSummaryText fits 100 columns with tfjs's long auto names and ends with Keras's totals", async () => {
  await initBackend("cpu");
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 5, activation: "relu", inputShape: [28, 28, 1] }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: "softmax" }));
  const lines = modelSummaryText(model).split("\n");
  const widest = lines.reduce((a, b) => (b.length > a.length ? b : a));
  assert.ok(widest.length <= 100, `${widest.length} columns: ${widest}`);
  const bn = model.layers[1].name;
  assert.ok(
    bn.length > 30 && lines.some((l) => l.startsWith(`${bn} `) && l.includes("(None, 24, 24, 64)") && l.endsWith(" 256")),
    lines.join("\n"),
  );
  assert.deepEqual(lines.slice(-4, -1), ["Total params: 370,570", "Trainable params: 370,442", "Non-trainable params: 128"]);
  model.dispose();
});
