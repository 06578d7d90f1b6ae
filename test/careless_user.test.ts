// What a careless user must not lose: a run exported onto itself, a result replaced on a full disk, source notebooks
// overwritten by a report (issue: sweep with --runs-dir = --results-dir; export deleting first; report --out .).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  buildHtmlReport,
  experimentVerdict,
  exportRunResult,
  listRunResults,
  loadFinishedRun,
  loadRun,
  partitionResults,
  profileTrainConfig,
  projectRoot,
  readRunResult,
  replaceDirAtomic,
  resolveTrainConfig,
  runExperiments,
  runIdFor,
  trainModel,
  trainRun,
  writeCheckedDir,
  type RunResult,
  type TrainConfigInput,
} from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, trainStoppedAfterEpoch, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(40, 1), test: syntheticDigits(20, 2) };
const config: TrainConfigInput = { optimizer: "adam", epochs: 1, batchSize: 20, model: TINY_MODEL, seed: 5 };

test("exportRunResult refuses a results directory that is the runs directory, even via a symlink; the run stays whole", async () => {
  const runsDir = tempDir();
  const link = path.join(tempDir(), "results-link");
  fs.symlinkSync(runsDir, link);
  const run = await trainRun(config, { data, runsDir, log: () => undefined });
  const before = fs.readdirSync(run.runDir).sort();
  for (const resultsDir of [runsDir, link]) {
    await assert.rejects(
      exportRunResult(run, run.model!, data.test, resultsDir),
      /Expected a results directory apart from the runs directory but .* is the run itself/,
    );
  }
  run.model!.dispose();
  assert.deepEqual(fs.readdirSync(run.runDir).sort(), before, "the run keeps its model and checkpoints");
});

test("replaceDirAtomic keeps the old directory when the new one cannot be written, and replaces it when it can", async () => {
  const target = path.join(tempDir(), "result");
  await replaceDirAtomic(target, { "a.json": "old" });
  // A name the file system refuses stands for a full disk: the write fails after the old directory was there.
  await assert.rejects(replaceDirAtomic(target, { "a.json": "new", "missing/b.json": "x" }));
  assert.deepEqual(fs.readdirSync(target), ["a.json"]);
  assert.equal(fs.readFileSync(path.join(target, "a.json"), "utf8"), "old");
  assert.deepEqual(fs.readdirSync(path.dirname(target)), ["result"], "no temp folder is left beside it");
  await replaceDirAtomic(target, { "a.json": "new" });
  assert.equal(fs.readFileSync(path.join(target, "a.json"), "utf8"), "new");
  assert.deepEqual(fs.readdirSync(path.dirname(target)), ["result"]);
});

test("mnist-lab sweep refuses a results directory that is the runs directory (via a symlink) before training", () => {
  const runsDir = tempDir();
  const link = path.join(tempDir(), "link");
  fs.symlinkSync(runsDir, link);
  const r = spawnSync(
    process.execPath,
    [path.join(projectRoot(), "bin", "mnist-lab"), "sweep", "--profile", "full", "--runs-dir", runsDir, "--results-dir", link],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error: Expected the results directory to be apart from the runs directory but both are /);
  assert.deepEqual(fs.readdirSync(runsDir), [], "nothing was trained");
});

test("buildHtmlReport refuses an out folder whose notebooks/ is the source notebooks' folder or inside it; writes nothing", async () => {
  const project = tempDir();
  const sources = path.join(project, "notebooks");
  fs.mkdirSync(sources);
  const notebook = path.join(sources, "00_x.ipynb");
  fs.writeFileSync(notebook, '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n');
  for (const outDir of [project, sources, path.join(sources, "sub")]) {
    await assert.rejects(
      buildHtmlReport({ profile: "smoke", outDir, notebooksDir: sources }),
      /^MnistLabError: Expected a report folder outside the source notebooks .* \(the report writes <out>\/notebooks\/\) but found /,
    );
  }
  assert.deepEqual(fs.readdirSync(sources), ["00_x.ipynb"]);
  assert.deepEqual(fs.readdirSync(project), ["notebooks"]);
});

test("resolveTrainConfig refuses a seed of 2^32 or more, which would fold onto a small one", () => {
  assert.throws(
    () => resolveTrainConfig({ optimizer: "adam", seed: 2 ** 32 }),
    /Expected an integer in \[0, 2\^32\) for seed but found number 4294967296/,
  );
  assert.equal(resolveTrainConfig({ optimizer: "adam", seed: 2 ** 32 - 1 }).seed, 2 ** 32 - 1);
});

test("trainModel refuses a model whose output is not a softmax, before training", async () => {
  const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10 })] });
  await assert.rejects(
    trainModel(model, { optimizer: "adam", epochs: 1 }, { data, runsDir: tempDir(), log: () => undefined }),
    /Expected the model's last layer to end in a softmax \(class probabilities\) but found activation linear/,
  );
  model.dispose();
});

test("readRunResult refuses a result whose history is empty, naming the file", async () => {
  const resultsDir = tempDir();
  const run = await trainRun(config, { data, runsDir: tempDir(), log: () => undefined });
  const dir = await exportRunResult(run, run.model!, data.test, resultsDir);
  run.model!.dispose();
  const history = path.join(dir, "history.csv");
  const header = fs.readFileSync(history, "utf8").split("\n")[0] + "\n";
  // Rewritten with its checksum, as a hand edit that also fixed checksums.json would be.
  await writeCheckedDir(
    dir,
    {
      ...Object.fromEntries(
        fs
          .readdirSync(dir)
          .filter((f) => f !== "checksums.json")
          .map((f) => [f, fs.readFileSync(path.join(dir, f))]),
      ),
      "history.csv": header,
    },
    { replace: true },
  );
  assert.throws(() => readRunResult(dir), new RegExp(`Expected ${history} to hold at least one epoch but found none`));
});

test("experimentVerdict calls a tie a tie, not a win", () => {
  const arm = (valAccuracy: number) => ({ metrics: { valAccuracy }, config: { epochs: 40, trainLimit: null } }) as unknown as RunResult;
  assert.match(experimentVerdict({ a: arm(0.99), b: arm(0.99), c: arm(0.98) }, undefined), /^a and b tie at 99\.00%: no winner/);
});

test("results: a backup copy, another recipe and a lost file are named, never counted as seeds", () => {
  const dir = tempDir();
  const id = "adam-e40-b86-aug-asrun-s1-94e84a0e";
  fs.cpSync(path.join(projectRoot(), "results", id), path.join(dir, id), { recursive: true });
  fs.cpSync(path.join(projectRoot(), "results", id), path.join(dir, `${id}-backup`), { recursive: true });
  const { included, excluded } = partitionResults(listRunResults(dir));
  assert.deepEqual(
    included.map((r) => r.runId),
    [id],
  );
  assert.deepEqual(excluded, [
    { runId: `${id}-backup`, dir: path.join(dir, `${id}-backup`), reason: `a second result of seed 1 (${id} is counted)` },
  ]);

  const other = readRunResult(path.join(dir, id));
  const changed = { ...other.config, batchSize: 64, learningRate: 0.01 };
  const files = Object.fromEntries(
    fs
      .readdirSync(other.dir)
      .filter((f) => f !== "checksums.json")
      .map((f) => [f, fs.readFileSync(path.join(other.dir, f))]),
  );
  const otherDir = path.join(tempDir(), "other");
  return writeCheckedDir(otherDir, { ...files, "config.json": JSON.stringify(changed) }).then(() => {
    const r = partitionResults([readRunResult(otherDir)]);
    assert.equal(r.included.length, 0);
    assert.match(r.excluded[0].reason, /^another recipe than the report's: batchSize, learningRate differ$/);
    fs.rmSync(path.join(dir, `${id}-backup`, "metrics.json"));
    assert.throws(() => listRunResults(dir), /metrics\.json/);
  });
});

test("exportRunResult refuses a run whose metrics.json disagrees with its history (a hand edit), naming the figure", async () => {
  const runsDir = tempDir();
  const run = await trainRun(config, { data, runsDir, log: () => undefined });
  const file = path.join(run.runDir, "metrics.json");
  fs.writeFileSync(file, JSON.stringify({ ...run.metrics, valAccuracy: 0.9999 }));
  await assert.rejects(
    exportRunResult(loadRun(run.runDir), run.model!, data.test, tempDir()),
    new RegExp(`Expected valAccuracy in ${file} to be ${run.history[0].val_accuracy} as its history says but found 0.9999`),
  );
  run.model!.dispose();
});

test("readRunResult names the file whose JSON is broken", async () => {
  const dir = path.join(tempDir(), "r");
  const source = path.join(projectRoot(), "results", "adam-e40-b86-aug-asrun-s1-94e84a0e");
  const files = Object.fromEntries(
    fs
      .readdirSync(source)
      .filter((f) => f !== "checksums.json")
      .map((f) => [f, fs.readFileSync(path.join(source, f))]),
  );
  await writeCheckedDir(dir, { ...files, "evaluation.json": "{" });
  assert.throws(
    () => readRunResult(dir),
    new RegExp(`^MnistLabError: Expected ${path.join(dir, "evaluation.json")} to be JSON but it is not`),
  );
});

test("runExperiments names an arm whose builder forgot to return its model", async () => {
  await assert.rejects(
    runExperiments(
      { forgot: (() => undefined) as never },
      { optimizer: "adam", epochs: 1 },
      { data, runsDir: tempDir(), log: () => undefined },
    ),
    /^MnistLabError: Expected experiment "forgot"'s builder to return a tfjs model but found undefined \(a missing return\?\)/,
  );
});

test("mnist-lab sweep moves on past a run another live process holds, trains the free ones and names what it left", () => {
  const runsDir = tempDir();
  const held = runIdFor(resolveTrainConfig(profileTrainConfig("smoke", "rmsprop", { seed: 1, schedule: "as-run" })));
  fs.mkdirSync(path.join(runsDir, held));
  // The test runner is alive: its pid in the lock stands for another sweep training that run.
  fs.writeFileSync(path.join(runsDir, held, ".lock"), `${process.pid} ${"0123456789abcdef".repeat(2)}\n`);
  const r = spawnSync(
    process.execPath,
    [path.join(projectRoot(), "bin", "mnist-lab"), "sweep", "--profile", "smoke", "--seeds", "1", "--runs-dir", runsDir],
    { encoding: "utf8", timeout: 300_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Expected run .*${held} to be free but process ${process.pid} is training it .*: moving on`));
  assert.match(r.stdout, /\nadam\t1\t.*\ttrained\t/);
  assert.match(r.stdout, /Held by other processes, not trained here: rmsprop seed 1\n/);
});

test("loadFinishedRun names a half-trained run unfinished, with its saved epochs, and says the same training resumes it", async () => {
  const runsDir = tempDir();
  await trainStoppedAfterEpoch(1, { ...config, epochs: 3 }, { data, runsDir, log: () => undefined, loadModel: false });
  // The stored config carries the synthetic data's fingerprint, which names the run.
  const stored = loadRun(path.join(runsDir, fs.readdirSync(runsDir)[0])).config;
  assert.throws(
    () => loadFinishedRun(stored, runsDir, tempDir()),
    /but found it unfinished \(1 of 3 epochs saved\); the same training resumes it after epoch 1: /,
  );
});

test("Keras's val_acc warning is said once per log sink, as Python shows a warning once, not once per run", async () => {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  await trainRun(config, { data, runsDir: tempDir(), log, loadModel: false });
  await trainRun({ ...config, seed: 6 }, { data, runsDir: tempDir(), log, loadModel: false });
  assert.equal(lines.filter((l) => l.startsWith("RuntimeWarning: Reduce LR on plateau")).length, 1, lines.join("\n"));
  const other: string[] = [];
  await trainRun({ ...config, seed: 7 }, { data, runsDir: tempDir(), log: (l) => other.push(l), loadModel: false });
  assert.equal(other.filter((l) => l.startsWith("RuntimeWarning: Reduce LR on plateau")).length, 1, "another sink hears it too");
});
