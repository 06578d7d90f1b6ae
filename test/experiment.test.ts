import { test } from "node:test";
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { buildReportCnn, topologySha256, trainModel, type ExperimentConfigInput } from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(60, 1), test: syntheticDigits(30, 2) };
const quiet = () => undefined;

/** A small CNN as a notebook cell would build it, without names: tfjs numbers them anew on every build. */
function cellModel(dropout = 0.25): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 2,
      kernelSize: 5,
      activation: "relu",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  model.add(tfl.layers.maxPooling2d({ poolSize: 4 }));
  model.add(tfl.layers.dropout({ rate: dropout }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  return model;
}

const config: ExperimentConfigInput = { optimizer: "sgd", momentum: 0.9, learningRate: 0.05, epochs: 2, batchSize: 20 };

test("topologySha256 is the same for the same model built twice and differs when a layer changes", () => {
  const a = cellModel();
  const b = cellModel();
  assert.notEqual(a.layers[0].name, b.layers[0].name);
  assert.equal(topologySha256(a), topologySha256(b));
  assert.notEqual(topologySha256(cellModel(0.5)), topologySha256(a));
  assert.equal(topologySha256(buildReportCnn(TINY_MODEL)), topologySha256(buildReportCnn(TINY_MODEL)));
});

test("trainModel trains a cell's model in place with SGD + momentum, and a rebuilt identical model loads the stored run", async () => {
  const runsDir = tempDir();
  const model = cellModel();
  const before = model.getWeights().map((w) => Array.from(w.dataSync()));
  const run = await trainModel(model, config, { data, runsDir, log: quiet, name: "tiny cnn" });
  assert.equal(run.status, "trained");
  assert.equal(run.model, model);
  assert.match(run.runId, new RegExp(`^model${model.countParams()}-sgd-e2-b20-aug-asrun-s42-[0-9a-f]{8}$`));
  assert.equal(run.config.model, null);
  assert.equal(run.config.architecture?.parameters, model.countParams());
  assert.equal(run.config.momentum, 0.9);
  assert.notDeepEqual(
    model.getWeights().map((w) => Array.from(w.dataSync())),
    before,
  );
  assert.equal(run.history.length, 2);

  const again = cellModel();
  // Another label, the same model and config: the same run.
  const loaded = await trainModel(again, config, { data, runsDir, log: quiet, name: "the same cnn" });
  assert.equal(loaded.status, "loaded");
  assert.equal(loaded.runId, run.runId);
  assert.deepEqual(
    again.getWeights().map((w) => Array.from(w.dataSync())),
    model.getWeights().map((w) => Array.from(w.dataSync())),
  );

  const changed = await trainModel(cellModel(0.5), { ...config, epochs: 1 }, { data, runsDir, log: quiet, name: "tiny cnn" });
  assert.notEqual(changed.runId.split("-").pop(), run.runId.split("-").pop());
});

test("trainModel refuses a model that does not map 28×28×1 images to 10 classes", async () => {
  const wrong = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 3, activation: "softmax" })],
  });
  await assert.rejects(
    trainModel(wrong, config, { data, runsDir: tempDir(), log: quiet }),
    /^MnistLabError: Expected a model taking \[null, 28, 28, 1\] images and giving \[null, 10\] class probabilities but found input \[null,28,28,1\] and output \[null,3\]$/,
  );
});
