import { test } from "node:test";
import assert from "node:assert/strict";
import { historyLogLines, previewGrid, runSummaryFrame, type StoredRun } from "mnist-lab";

test("previewGrid lays out each original followed by its variants, with captions", () => {
  const img = (v: number) => new Float32Array(4).fill(v);
  const p = { thetaDegrees: 5, tx: 0, ty: 0, zx: 1.1, zy: 0.9 };
  const grid = previewGrid({ height: 2, width: 2, originals: [img(1), img(2)], augmented: [[img(3)], [img(4)]], params: [[p], [p]] });
  assert.deepEqual(Array.from(grid.images), [1, 1, 1, 1, 3, 3, 3, 3, 2, 2, 2, 2, 4, 4, 4, 4]);
  assert.deepEqual(grid.captions, ["original", "5° ×1.00", "original", "5° ×1.00"]);
});

test("historyLogLines prints a stored history as Keras verbose=2 and a fresh run log it, without lr", () => {
  const lines = historyLogLines(
    [{ loss: 0.368, accuracy: 0.8847, val_loss: 0.4336, val_accuracy: 0.8721, lr: 0.001, epoch_seconds: 173.2 }],
    40,
  );
  assert.deepEqual(lines, ["Epoch 1/40", "- 173s - loss: 0.3680 - accuracy: 0.8847 - val_loss: 0.4336 - val_accuracy: 0.8721"]);
});

test("runSummaryFrame has one row per finished run", () => {
  const metrics = {
    runId: "r",
    optimizer: "adam",
    epochs: 2,
    epochsCompleted: 2,
    stoppedEarly: false,
    valAccuracy: 0.99,
    valLoss: 0.03,
    trainAccuracy: 0.98,
    trainLoss: 0.05,
    bestValAccuracy: 0.991,
    bestEpoch: 1,
    finalLearningRate: 0.001,
    secondsPerEpoch: 12.34,
    totalSeconds: 24.7,
    backends: ["onednn"],
    trainCount: 100,
    validationCount: 50,
    finishedAt: "x",
  };
  const run = { runId: "r", runDir: "/r", config: {}, history: [], metrics } as unknown as StoredRun;
  const unfinished = { ...run, metrics: undefined } as StoredRun;
  const frame = runSummaryFrame({ Adam: run, RMSprop: unfinished });
  assert.equal(frame.height, 1);
  assert.deepEqual(frame.row(0).slice(0, 4), ["Adam", 2, 100, 0.99]);
  assert.equal(frame.getColumn("s/epoch").toArray()[0], 12.3);
});
