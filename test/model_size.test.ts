// model_size.ts: a model's parameters from its topology alone, and the bound checked before tfjs allocates a thing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  MAX_MODEL_PARAMETERS,
  REPORT_CNN_PARAMS,
  buildReportCnn,
  estimateParameters,
  modelSpecFromTopology,
  paddingReadings,
  trainModel,
  type KerasTopology,
} from "mnist-lab";
import { syntheticDigits, tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

/** The report's CNN's topology with every conv's filters set to `filters`, built small so nothing big is allocated. */
function topologyWithFilters(filters: number): KerasTopology {
  const model = buildReportCnn({ filters: 2 });
  const topology = model.toJSON(null, false) as unknown as KerasTopology;
  model.dispose();
  for (const layer of topology.config.layers as KerasTopology[]) if (layer.class_name === "Conv2D") layer.config.filters = filters;
  return topology;
}

test("estimateParameters counts the report's CNN and every padding reading as the built models do", () => {
  assert.equal(estimateParameters(topologyWithFilters(64))!.parameters, REPORT_CNN_PARAMS);
  for (const { reading } of paddingReadings()) {
    const model = buildReportCnn({ paddings: ["valid", "valid", ...reading] });
    const topology = model.toJSON(null, false) as unknown as KerasTopology;
    assert.equal(estimateParameters(topology)!.parameters, model.countParams(), reading.join(","));
    model.dispose();
  }
});

test("a saved model of a million filters is refused in one line before tfjs builds it, naming its largest layer", async () => {
  const started = performance.now();
  await assert.rejects(
    modelSpecFromTopology(topologyWithFilters(1_000_000)).build(0),
    new RegExp(
      "^MnistLabError: Expected a model of at most 50,000,000 parameters .* but the saved model has [\\d,]+ .*" +
        "\\(layer 3, Conv2D, has [\\d,]+\\); make it smaller$",
    ),
  );
  assert.ok(performance.now() - started < 2000, "refused before anything was allocated");
});

test("trainModel refuses a built model above the bound before training", async () => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({ units: Math.ceil(MAX_MODEL_PARAMETERS / 784) + 1 }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  const data = { train: syntheticDigits(20, 1), test: syntheticDigits(10, 2) };
  await assert.rejects(
    trainModel(model, { optimizer: "adam", epochs: 1 }, { data, runsDir: tempDir(), log: () => undefined }),
    /Expected a model of at most 50,000,000 parameters .* but the model to train has/,
  );
  model.dispose();
});
