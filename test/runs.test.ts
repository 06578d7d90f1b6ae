import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import {
  REPORT_TRAIN_DEFAULTS,
  canonicalJson,
  historyToCsv,
  listCheckpoints,
  listRuns,
  loadRun,
  LOCK_FOREIGN_STALE_MS,
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
  assert.deepEqual(c.augmentation, { rotationRange: 10, zoomRange: 0.1, widthShiftRange: 0.1, heightShiftRange: 0.1, center: "keras-2.3" });
  assert.equal(c.validation, "test");
  assert.equal(c.schedule, "as-run");
  assert.deepEqual(c.reduceLr, { monitor: "val_acc", factor: 0.5, patience: 3, mode: "auto", minDelta: 1e-4, cooldown: 0, minLr: 1e-5 });
  assert.equal(resolveTrainConfig({ optimizer: "adam", schedule: "as-intended" }).reduceLr?.monitor, "val_accuracy");
  assert.throws(
    () => resolveTrainConfig({ optimizer: "adam", schedule: "never" as "as-run" }),
    /Expected "as-run" or "as-intended" for schedule but found "never"/,
  );
  assert.equal(c.earlyStopping, null);
  assert.equal(c.model?.filters, 64);
  assert.deepEqual(resolveTrainConfig({ optimizer: "adam", reduceLr: null }).reduceLr, null);
  assert.equal(REPORT_TRAIN_DEFAULTS.batchSize, 86);
});

test("resolveTrainConfig rejects bad values saying what it expected and found", () => {
  assert.throws(
    () => resolveTrainConfig({ optimizer: "nadam" as "adam" }),
    /Expected "rmsprop", "adam", "sgd" for optimizer but found "nadam"/,
  );
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", epochs: 0 }), /Expected an integer > 0 for epochs but found number 0/);
  assert.throws(
    () => resolveTrainConfig({ optimizer: "adam", batchSize: 2.5 }),
    /Expected an integer > 0 for batchSize but found number 2.5/,
  );
  assert.throws(() => resolveTrainConfig({ optimizer: "adam", learningRate: -1 }), /Expected a finite number > 0 for learningRate/);
  assert.throws(
    () => resolveTrainConfig({ optimizer: "adam", validationFraction: 1 }),
    /Expected a number in \(0, 1\) for validationFraction/,
  );
  assert.throws(
    () => resolveTrainConfig({ optimizer: "adam", augmentation: { rotationRange: -5 } }),
    /Expected a finite number ≥ 0 for augmentation rotationRange but found number -5/,
  );
});

test("runIdFor is readable and changes with any field of the config", () => {
  const base = resolveTrainConfig({ optimizer: "adam" });
  const id = runIdFor(base);
  assert.match(id, /^adam-e40-b86-aug-asrun-s42-[0-9a-f]{8}$/);
  assert.equal(runIdFor(resolveTrainConfig({ optimizer: "adam" })), id);
  assert.match(
    runIdFor(resolveTrainConfig({ optimizer: "rmsprop", augment: false, trainLimit: 500, seed: 1 })),
    /^rmsprop-e40-b86-noaug-n500-asrun-s1-/,
  );
  const variants = [
    resolveTrainConfig({ optimizer: "adam", model: { filters: 32 } }),
    resolveTrainConfig({ optimizer: "adam", validationLimit: 100 }),
    resolveTrainConfig({ optimizer: "adam", reduceLr: { patience: 4 } }),
  ];
  for (const v of variants) assert.notEqual(runIdFor(v).slice(-8), id.slice(-8));
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }), canonicalJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
});

test("listCheckpoints lists complete checkpoints newest first and ignores temp directories", () => {
  const runDir = tempDir();
  assert.deepEqual(listCheckpoints(runDir), []);
  for (const name of ["epoch-0002", "epoch-0010", ".epoch-0011.tmp-123-deadbeef", "epoch-0003"])
    fs.mkdirSync(path.join(runDir, "checkpoints", name), { recursive: true });
  assert.deepEqual(
    listCheckpoints(runDir).map((c) => [path.relative(runDir, c.dir), c.epochsCompleted]),
    [
      [path.join("checkpoints", "epoch-0010"), 10],
      [path.join("checkpoints", "epoch-0003"), 3],
      [path.join("checkpoints", "epoch-0002"), 2],
    ],
  );
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
  assert.deepEqual(
    listRuns(runsDir).map((r) => r.runId),
    ["adam-x"],
  );
  assert.throws(() => loadRun(path.join(runsDir, "nope")), /Expected a run directory with config.json at .*nope but found none/);
});

/** The pid of a process that has exited, as a lock left by SIGKILL names. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

test("lockRun refuses a run a live process holds and takes over a dead process's lock", () => {
  const runDir = tempDir();
  const lock = path.join(runDir, ".lock");
  const release = lockRun(runDir);
  assert.match(fs.readFileSync(lock, "utf8"), new RegExp(`^${process.pid} [0-9a-f]{32} ${os.hostname()}\n$`));
  release();
  assert.ok(!fs.existsSync(lock));
  // A live other process (our parent) holds it, in either format: refused.
  for (const content of [`${process.ppid} ${"ab".repeat(16)}\n`, String(process.ppid)]) {
    fs.writeFileSync(lock, content);
    assert.throws(
      () => lockRun(runDir),
      new RegExp(`^RunBusyError: Expected run .* to be free but process ${process.ppid} is training it`),
    );
  }
  // A finished process held it (as after SIGKILL), in the token format or the one before it: taken over.
  const dead = deadPid();
  for (const content of [`${dead} ${"cd".repeat(16)}\n`, String(dead)]) {
    fs.writeFileSync(lock, content);
    lockRun(runDir)();
    assert.ok(!fs.existsSync(lock));
  }
});

test("lockRun judges another host's lock by its heartbeat, not by a pid that means nothing here", () => {
  const runDir = tempDir();
  const lock = path.join(runDir, ".lock");
  // A dead pid here, but on another node of a cluster: its lock is fresh, so its holder counts as alive.
  fs.writeFileSync(lock, `${deadPid()} ${"ab".repeat(16)} node-elsewhere\n`);
  assert.throws(() => lockRun(runDir), /^RunBusyError: Expected run .* to be free but process \d+ on node-elsewhere is training it/);
  // Its heartbeat (the mtime) stopped longer ago than LOCK_FOREIGN_STALE_MS: the node died, the lock is taken over.
  const stale = new Date(Date.now() - LOCK_FOREIGN_STALE_MS - 60_000);
  fs.utimesSync(lock, stale, stale);
  lockRun(runDir)();
  assert.ok(!fs.existsSync(lock));
});

test("lockRun refuses a second lock of the same run in this process, however the path is spelled", () => {
  const parent = tempDir();
  const runDir = path.join(parent, "run");
  const release = lockRun(runDir);
  const alias = path.join(parent, "alias");
  fs.symlinkSync(runDir, alias);
  for (const spelling of [runDir, `${runDir}/`, alias]) {
    assert.throws(
      () => lockRun(spelling),
      new RegExp(
        "^MnistLabError: Expected run .* to be free but this process is training it already \\(a cell still running\\?\\): " +
          "interrupt that cell \\(Kernel › Interrupt\\) or wait for it to finish$",
      ),
    );
  }
  assert.ok(fs.existsSync(path.join(runDir, ".lock")), "the refused call leaves the held lock alone");
  release();
  release();
  lockRun(alias)();
});

test("lockRun's release leaves alone a lock that another process took meanwhile", () => {
  const runDir = tempDir();
  const lock = path.join(runDir, ".lock");
  const release = lockRun(runDir);
  const other = `${process.ppid} ${"ef".repeat(16)}\n`;
  fs.rmSync(lock);
  fs.writeFileSync(lock, other);
  release();
  assert.equal(fs.readFileSync(lock, "utf8"), other);
});

test("lockRun waits out an unreadable lock while it may be being written, then takes it over", () => {
  const runDir = tempDir();
  const lock = path.join(runDir, ".lock");
  fs.writeFileSync(lock, "");
  assert.throws(() => lockRun(runDir), /to be free but another process is taking it/);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(lock, old, old);
  lockRun(runDir)();
});

test("lockRun lets one process take over a stale lock: a live claimant's takeover marker refuses, a dead one's does not", () => {
  const runDir = tempDir();
  const lock = path.join(runDir, ".lock");
  const token = "12".repeat(16);
  fs.writeFileSync(lock, `${deadPid()} ${token}\n`);
  fs.writeFileSync(`${lock}.takeover-${token}-1`, `${process.ppid} ${"34".repeat(16)}\n`);
  assert.throws(() => lockRun(runDir), /to be free but another process is taking over its stale lock/);
  assert.ok(fs.existsSync(lock), "the stale lock is left to the claimant");
  // The claimant died between marking and taking (SIGKILL): the next generation of marker is free.
  fs.writeFileSync(`${lock}.takeover-${token}-1`, `${deadPid()} ${"34".repeat(16)}\n`);
  lockRun(runDir)();
  assert.ok(fs.existsSync(`${lock}.takeover-${token}-2`));
});

test("lockRun removes takeover markers and temp files older than an hour and keeps younger ones", () => {
  const runDir = tempDir();
  const names = [".lock.takeover-aa-1", ".lock.new-1-0badc0de", ".lock.takeover-bb-1", "history.csv"];
  for (const name of names) fs.writeFileSync(path.join(runDir, name), "x");
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const name of names.slice(0, 2).concat("history.csv")) fs.utimesSync(path.join(runDir, name), old, old);
  lockRun(runDir)();
  assert.deepEqual(fs.readdirSync(runDir).sort(), [".lock.takeover-bb-1", "history.csv"]);
});

test("lockRun names the path when the run directory cannot be made", () => {
  const parent = tempDir();
  const file = path.join(parent, "file");
  fs.writeFileSync(file, "x");
  assert.throws(
    () => lockRun(path.join(file, "run")),
    /^MnistLabError: Expected .*file\/run to be a writable run directory but a part of the path is a file, not a directory \(ENOTDIR\)$/,
  );
  assert.throws(() => lockRun(file), /^MnistLabError: Expected .*file to be a writable run directory but it is a file$/);
});

// Child processes that each call lockRun on one run directory at the same moment, on command from stdin
// ("go <epoch ms> <dir>", "release"), and answer one line each ("won", "lost <message>", "released").
const RACER = `
const { lockRun } = require(process.argv[1]);
let release;
require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, at, dir] = line.split(" ");
  if (cmd === "go") {
    while (Date.now() < Number(at)); // start together, to the millisecond
    try { release = lockRun(dir); console.log("won"); } catch (err) { console.log("lost " + err.message); }
  } else if (cmd === "release") {
    if (release) release();
    release = undefined;
    console.log("released");
  }
});
console.log("ready");
`;

test("lockRun lets exactly one of many racing processes in over a stale lock, every time", async () => {
  const racers = Array.from({ length: 6 }, () => {
    const child = spawn(process.execPath, ["-e", RACER, require.resolve("mnist-lab")], { stdio: ["pipe", "pipe", "inherit"] });
    const lines: string[] = [];
    const waiting: Array<(line: string) => void> = [];
    readline
      .createInterface({ input: child.stdout! })
      .on("line", (line) => (waiting.length > 0 ? waiting.shift()!(line) : lines.push(line)));
    const next = () => new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiting.push(resolve)));
    return { child, next };
  });
  try {
    for (const r of racers) assert.equal(await r.next(), "ready");
    const runDir = tempDir();
    const lock = path.join(runDir, ".lock");
    const dead = deadPid();
    for (let round = 0; round < 24; round++) {
      // A stale lock in the token format, in the format before it, or none at all.
      const stale = [`${dead} ${randomBytes(16).toString("hex")}\n`, `${dead}`, null][round % 3];
      if (stale !== null) fs.writeFileSync(lock, stale);
      const at = Date.now() + 50;
      for (const r of racers) r.child.stdin!.write(`go ${at} ${runDir}\n`);
      const answers = await Promise.all(racers.map((r) => r.next()));
      const winners = answers.filter((a) => a === "won");
      assert.equal(winners.length, 1, `round ${round} (stale lock ${JSON.stringify(stale)}): ${answers.join(" | ")}`);
      for (const a of answers)
        if (a !== "won")
          assert.match(
            a,
            /^lost Expected run .* to be free but (process \d+ is training it|another process is taking over its stale lock)/,
          );
      for (const r of racers) r.child.stdin!.write("release\n");
      for (const r of racers) assert.equal(await r.next(), "released");
      assert.ok(!fs.existsSync(lock), `round ${round}: the winner's release removes its lock`);
    }
  } finally {
    for (const r of racers) r.child.kill();
  }
});
