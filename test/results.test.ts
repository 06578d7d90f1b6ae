import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  evaluateFinishedRun,
  exportRunResult,
  listRunResults,
  loadFinishedRun,
  loadRunModel,
  trainRun,
  type TrainConfigInput,
} from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(40, 1), test: syntheticDigits(20, 2) };
const config: TrainConfigInput = { optimizer: "adam", epochs: 1, batchSize: 20, model: TINY_MODEL, seed: 5 };

test("exportRunResult writes a checked summary that a clone without runs/ evaluates from, saying what needs the weights", async () => {
  const runsDir = tempDir();
  const resultsDir = tempDir();
  const run = await trainRun(config, { data, runsDir, log: () => undefined });
  const dir = await exportRunResult(run, run.model!, data.test, resultsDir);
  run.model!.dispose();
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    "checksums.json",
    "config.json",
    "evaluation.json",
    "history.csv",
    "metrics.json",
    "steps.csv.gz",
  ]);
  const [stored] = listRunResults(resultsDir);
  assert.equal(stored.runId, run.runId);
  // Every training step comes back: 2 batches of 20, their losses averaging to the epoch's logged loss.
  assert.deepEqual(
    stored.steps.map((s) => [s.epoch, s.step, s.size]),
    [
      [1, 1, 20],
      [1, 2, 20],
    ],
  );
  const meanLoss = stored.steps.reduce((a, s) => a + s.loss * s.size, 0) / 40;
  assert.ok(Math.abs(meanLoss - stored.history[0].loss) < 1e-5, `${meanLoss} vs ${stored.history[0].loss}`);
  assert.equal(stored.evaluation.count, 20);
  assert.equal(
    stored.evaluation.confusion.flat().reduce((a, b) => a + b, 0),
    20,
  );

  // A fresh clone: the run's folder is gone, its summary stays.
  fs.rmSync(runsDir, { recursive: true });
  // The stored config carries the synthetic data's fingerprint, which names the run.
  const finished = loadFinishedRun(run.config, runsDir, resultsDir);
  assert.equal(finished.source, "results");
  assert.deepEqual(finished.history, stored.history);
  const evaluation = await evaluateFinishedRun(finished, data.test);
  assert.equal(evaluation.accuracy, stored.evaluation.accuracy);
  assert.equal(evaluation.predictions, undefined);
  assert.match(
    evaluation.missing ?? "",
    /this clone has only its summary in .*; `mnist-lab train --optimizer adam --epochs 1 --seed 5 --schedule as-run` trains them/,
  );
  assert.throws(() => loadRunModel(finished), /^MnistLabError: Expected the weights of /);
});

test("listRunResults refuses a result whose file changed after it was written, naming it", async () => {
  const resultsDir = tempDir();
  const run = await trainRun(config, { data, runsDir: tempDir(), log: () => undefined });
  const dir = await exportRunResult(run, run.model!, data.test, resultsDir);
  run.model!.dispose();
  const file = path.join(dir, "evaluation.json");
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/"count": 20/, '"count": 21'));
  assert.throws(
    () => listRunResults(resultsDir),
    (err: Error) => err.message.startsWith(`Expected ${file} to have SHA-256`),
  );
});
