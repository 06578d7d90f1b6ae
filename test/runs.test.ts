import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  REPORT_TRAIN_DEFAULTS,
  canonicalJson,
  historyToCsv,
  latestCheckpoint,
  listRuns,
  loadRun,
  lockRun,
  parseHistoryCsv,
  resolveTrainConfig,
  runIdFor,
} from "mnist-lab";
import { tempDir } from "./helpers/train_fixtures";

test("resolveTrainConfig fills the report's defaults", () => {
  const c = resolveTrainConfig({ optimizer: "rmsprop" });
  assert.equal(c.epochs, 40);
  assert.equal(c.batchSize, 86);
  assert.equal(c.learningRate, 0.001);
  assert.equal(c.augment, true);
  assert.deepEqual(c.augmentation, { rotationRange: 10, zoomRange: 0.1, widthShiftRange: 0.1, heightShiftRange: 0.1 });
  assert.equal(c.validation, "test");
  assert.deepEqual(c.reduceLr, { monitor: "val_accuracy", factor: 0.5, patience: 3, mode: "auto", minDelta: 1e-4, cooldown: 0, minLr: 1e-5 });
  assert.equal(c.earlyStopping, null);
  assert.equal(c.model.filters, 64);
  assert.deepEqual(resolveTrainConfig({ optimizer: "adam", reduceLr: null }).reduceLr, null);
  assert.equal(REPORT_TRAIN_DEFAULTS.batchSize, 86);
});

test("resolveTrainConfig rejects bad values saying what it expected and found", () => {
  assert.throws(() => resolveTrainConfig({ optimizer: "sgd" as "adam" }), /Expected "rmsprop" or "adam" for optimizer but found "sgd"/);
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", epochs: 0 }), /Expected an integer > 0 for epochs but found number 0/);
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", batchSize: 2.5 }), /Expected an integer > 0 for batchSize but found number 2.5/);
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", learningRate: -1 }), /Expected a finite number > 0 for learningRate/);
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", validationFraction: 1 }), /Expected a number in \(0, 1\) for validationFraction/);
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", augmentation: { rotationRange: -5 } }), /Expected a finite number ≥ 0 for augmentation rotationRange but found number -5/);
});

test("runIdFor is readable and changes with any field of the config", () => {
  const base = resolveTrainConfig({ optimizer: "adam" });
  const id = runIdFor(base);
  assert.match(id, /^adam-e40-b86-aug-s42-[0-9a-f]{8}$/);
  assert.equal(runIdFor(resolveTrainConfig({ optimizer: "adam" })), id);
  assert.match(runIdFor(resolveTrainConfig({ optimizer: "rmsprop", augment: false, trainLimit: 500, seed: 1 })), /^rmsprop-e40-b86-noaug-n500-s1-/);
  const variants = [
    resolveTrainConfig({ optimizer: "adam", model: { filters: 32 } }),
    resolveTrainConfig({ optimizer: "adam", validationLimit: 100 }),
    resolveTrainConfig({ optimizer: "adam", reduceLr: { patience: 4 } }),
  ];
  for (const v of variants) assert.notEqual(runIdFor(v).slice(-8), id.slice(-8));
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }), canonicalJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
});

test("latestCheckpoint picks the newest complete checkpoint and ignores temp directories", () => {
  const runDir = tempDir();
  assert.equal(latestCheckpoint(runDir), undefined);
  for (const name of ["epoch-0002", "epoch-0010", ".epoch-0011.tmp-123-deadbeef", "epoch-0003"]) fs.mkdirSync(path.join(runDir, "checkpoints", name), { recursive: true });
  assert.deepEqual(latestCheckpoint(runDir), { dir: path.join(runDir, "checkpoints", "epoch-0010"), epochsCompleted: 10 });
});

test("parseHistoryCsv reads back what historyToCsv writes", () => {
  const rows = [
    { epoch: 0, loss: 0.368, accuracy: 0.8847, val_loss: 0.4336, val_accuracy: 0.8721, lr: 0.001 },
    { epoch: 1, loss: 0.112, accuracy: 0.9664, val_loss: 0.0279, val_accuracy: 0.9916, lr: 0.0005 },
  ];
  const csv = historyToCsv(rows);
  assert.equal(csv.split("\n")[0], "epoch,accuracy,loss,lr,val_accuracy,val_loss");
  assert.deepEqual(parseHistoryCsv(csv), rows);
});

test("loadRun reads config, history and metrics, and listRuns finds runs", () => {
  const runsDir = tempDir();
  const runDir = path.join(runsDir, "adam-x");
  fs.mkdirSync(runDir);
  const config = resolveTrainConfig({ optimizer: "adam", epochs: 1 });
  fs.writeFileSync(path.join(runDir, "config.json"), JSON.stringify(config));
  fs.writeFileSync(path.join(runDir, "history.csv"), historyToCsv([{ epoch: 0, loss: 1, val_accuracy: 0.5 }]));
  const unfinished = loadRun(runDir);
  assert.deepEqual(unfinished.config, config);
  assert.deepEqual(unfinished.history, [{ loss: 1, val_accuracy: 0.5 }]);
  assert.equal(unfinished.metrics, undefined);
  fs.writeFileSync(path.join(runDir, "metrics.json"), JSON.stringify({ valAccuracy: 0.5 }));
  assert.equal(loadRun(runDir).metrics?.valAccuracy, 0.5);
  assert.deepEqual(listRuns(runsDir).map((r) => r.runId), ["adam-x"]);
  assert.throws(() => loadRun(path.join(runsDir, "nope")), /Expected a run directory with config.json at .*nope but found none/);
});

test("lockRun refuses a run a live process holds and takes over a dead process's lock", () => {
  const runDir = tempDir();
  const release = lockRun(runDir);
  assert.equal(fs.readFileSync(path.join(runDir, ".lock"), "utf8"), String(process.pid));
  release();
  assert.ok(!fs.existsSync(path.join(runDir, ".lock")));
  // A live other process (our parent) holds it: refused.
  fs.writeFileSync(path.join(runDir, ".lock"), String(process.ppid));
  assert.throws(() => lockRun(runDir), new RegExp(`process ${process.ppid} is training it`));
  // A finished process held it (as after SIGKILL): taken over.
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  fs.writeFileSync(path.join(runDir, ".lock"), dead);
  lockRun(runDir)();
});
