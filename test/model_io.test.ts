import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  CHECKSUMS_FILE,
  buildReportCnn,
  compileReportCnn,
  loadModelDir,
  loadWeightsIntoModel,
  modelSpecFromTopology,
  makeOptimizer,
  optimizerStateToFiles,
  restoreOptimizerState,
  saveModelDir,
  type OptimizerName,
} from "mnist-lab";
import { TINY_MODEL, tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const values = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

test("saveModelDir writes tfjs layers format that loadModelDir and loadWeightsIntoModel read back", async () => {
  const dir = tempDir();
  const model = buildReportCnn({ ...TINY_MODEL, seed: 1 });
  await saveModelDir(model, dir);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  assert.equal(json.format, "layers-model");
  assert.deepEqual(json.weightsManifest[0].paths, ["./weights.bin"]);
  assert.equal(fs.statSync(path.join(dir, "weights.bin")).size, model.countParams() * 4);
  const loaded = await loadModelDir(dir);
  assert.deepEqual(values(loaded.getWeights()), values(model.getWeights()));
  const other = buildReportCnn({ ...TINY_MODEL, seed: 2 });
  assert.notDeepEqual(values(other.getWeights()), values(model.getWeights()));
  loadWeightsIntoModel(other, dir);
  assert.deepEqual(values(other.getWeights()), values(model.getWeights()));
  [model, loaded, other].forEach((m) => m.dispose());
});

for (const name of ["rmsprop", "adam"] as OptimizerName[]) {
  test(`restoreOptimizerState continues ${name} exactly where optimizerStateToFiles saved it`, async () => {
    // After one step of `a`, `b` gets a's saved state and `c` nothing; all three then step from the same point.
    const g = tf.tensor1d([0.3, -1, 2]);
    const g2 = tf.tensor1d([-1, 0.5, 3]);
    // A different gradient in step 2, else Adam's step is ±lr whatever its state.
    let current = g;
    const loss = (x: tf.Variable) => () => tf.sum(tf.mul(x, current)) as tf.Scalar;
    const [xa, xb, xc] = [0, 1, 2].map(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const a = makeOptimizer(name, 0.01);
    a.minimize(loss(xa), false, [xa]);
    const saved = await optimizerStateToFiles(a);
    xb.assign(xa);
    xc.assign(xa);
    const b = makeOptimizer(name, 0.01);
    const c = makeOptimizer(name, 0.01);
    await restoreOptimizerState(b, saved.json, saved.bin);
    current = g2;
    a.minimize(loss(xa), false, [xa]);
    b.minimize(loss(xb), false, [xb]);
    c.minimize(loss(xc), false, [xc]);
    const [va, vb, vc] = [xa, xb, xc].map((x) => Array.from(x.dataSync()));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(va[i] - vb[i]) < 1e-7, `${i}: ${va[i]} vs ${vb[i]}`);
    // Without the state the step differs (Adam's bias correction, RMSprop's running average).
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(va[i] - vc[i]) > 1e-5, `${i}: ${va[i]} vs fresh ${vc[i]}`);
    const wrong = makeOptimizer(name === "adam" ? "rmsprop" : "adam");
    await assert.rejects(restoreOptimizerState(wrong, saved.json, saved.bin), /Expected optimizer state of .* but found/);
    tf.dispose([g, g2, xa, xb, xc]);
    [a, b, c, wrong].forEach((o) => o.dispose());
  });
}

test("optimizerStateToFiles of a compiled model's optimizer leaks no tensors", async () => {
  const model = buildReportCnn({ ...TINY_MODEL, seed: 1 });
  compileReportCnn(model, makeOptimizer("adam"));
  const x = tf.zeros([2, 28, 28, 1]);
  const y = tf.tensor2d([
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  ]);
  await model.trainOnBatch(x, y);
  const before = tf.memory().numTensors;
  const files = await optimizerStateToFiles(model.optimizer);
  assert.equal(tf.memory().numTensors, before);
  // iter + m and v for each trainable weight.
  assert.equal(JSON.parse(files.json).weights.length, 1 + 2 * model.trainableWeights.length);
  tf.dispose([x, y]);
  model.optimizer.dispose();
  model.dispose();
});

test("a model with a layer class tfjs does not know is refused in one line naming the class and the known ones", async () => {
  const dir = tempDir();
  const model = buildReportCnn({ ...TINY_MODEL, seed: 1 });
  await saveModelDir(model, dir);
  const file = path.join(dir, "model.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  json.modelTopology.config.layers[1].class_name = "MyCustomLayer";
  fs.writeFileSync(file, JSON.stringify(json));
  fs.rmSync(path.join(dir, CHECKSUMS_FILE)); // an edited model, not a damaged one
  const oneLine = (where: string) => (err: Error) =>
    !err.message.includes("\n") &&
    err.message.startsWith(`Expected tfjs layer classes in ${where} but found MyCustomLayer; tfjs knows `) &&
    /\bBatchNormalization, .*\bConv2D, .*\bDense, /.test(err.message) &&
    !/Python/.test(err.message);
  await assert.rejects(loadModelDir(dir), oneLine(file));
  await assert.rejects(modelSpecFromTopology(json.modelTopology).build(0), oneLine("the Sequential topology 01_model saved"));
  model.dispose();
});
