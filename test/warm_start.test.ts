// warm_start.ts: a head start (steps trained before the logged epochs, kept as epoch 0 of the per-step history) and a
// start from another run's trained weights — the forensic re-enactments of Adam's first epoch and its control.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadModelDir, parseStepsCsv, runIdFor, resolveTrainConfig, trainRun, type TrainConfigInput } from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, trainStoppedAfterEpoch, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(60, 1), test: syntheticDigits(30, 2) };
const base: TrainConfigInput = { optimizer: "adam", epochs: 2, batchSize: 20, model: TINY_MODEL, seed: 3 };
const quiet = () => undefined;
const steps = (runDir: string) => parseStepsCsv(fs.readFileSync(path.join(runDir, "steps.csv"), "utf8"), "steps.csv");

test("trainRun with headStartSteps trains them before epoch 1, keeps them as epoch 0, and resumes bit for bit", async () => {
  const config = { ...base, headStartSteps: 2 };
  const plain = await trainRun(base, { data, runsDir: tempDir(), log: quiet, loadModel: false });
  const lines: string[] = [];
  const headStarted = await trainRun(config, { data, runsDir: tempDir(), log: (l) => lines.push(l), loadModel: false });
  assert.ok(
    lines.some((l) => l.startsWith("Head start: 2 steps before the logged epochs")),
    lines.join("\n"),
  );
  assert.deepEqual(
    steps(headStarted.runDir).map((s) => `${s.epoch}.${s.step}`),
    ["0.1", "0.2", "1.1", "1.2", "1.3", "2.1", "2.2", "2.3"],
  );
  assert.equal(headStarted.history.length, 2, "the head start is not a logged epoch");
  assert.notEqual(headStarted.history[0].loss, plain.history[0].loss, "the logged epoch 1 starts from the head-started model");

  const runsDir = tempDir();
  await trainStoppedAfterEpoch(1, config, { data, runsDir, log: quiet, loadModel: false });
  const resumed = await trainRun(config, { data, runsDir, log: quiet, loadModel: false });
  assert.equal(resumed.status, "resumed");
  assert.deepEqual(steps(resumed.runDir), steps(headStarted.runDir));
  assert.deepEqual(
    resumed.history.map((h) => h.val_loss),
    headStarted.history.map((h) => h.val_loss),
  );
});

test("trainRun with startFrom begins from that finished run's weights, and refuses one that is not finished", async () => {
  const runsDir = tempDir();
  const first = await trainRun({ ...base, optimizer: "rmsprop", epochs: 1 }, { data, runsDir, log: quiet, loadModel: false });
  // A rate too small to move a kernel: the second run's kernels stay the first run's final ones.
  const second = await trainRun(
    { ...base, epochs: 1, learningRate: 1e-12, startFrom: first.runId },
    { data, runsDir, log: quiet, loadModel: false },
  );
  const kernels = async (runDir: string) => {
    const model = await loadModelDir(path.join(runDir, "model"));
    const values = model.layers.filter((l) => l.getClassName() === "Conv2D").map((l) => Array.from(l.getWeights()[0].dataSync()));
    model.dispose();
    return values;
  };
  const [a, b] = [await kernels(first.runDir), await kernels(second.runDir)];
  assert.ok(
    a.flat().every((w, i) => Math.abs(w - b.flat()[i]) < 1e-6),
    "the second run starts from the first's kernels",
  );

  const unfinished = runIdFor(resolveTrainConfig({ ...base, seed: 99 }));
  await assert.rejects(
    trainRun({ ...base, startFrom: unfinished }, { data, runsDir, log: quiet, loadModel: false }),
    new RegExp(`Expected a finished run ${unfinished} in .* to start from but found none; train it first`),
  );
  assert.throws(() => resolveTrainConfig({ ...base, startFrom: "../elsewhere" }), /Expected .*startFrom.* but found "..\/elsewhere"/);
});
