import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHECKSUMS_FILE, parseHistoryCsv, sweepEntries, sweepEntryProgress } from "mnist-lab";
import { writeTinyMnist } from "./helpers/idx_fixtures";
import { tempDir } from "./helpers/train_fixtures";

const ROOT = path.join(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mnist-lab");
// Tiny knobs (hidden flags) so three epochs of real MNIST take seconds on the cpu backend.
const TINY = [
  "--epochs",
  "3",
  "--train-limit",
  "40",
  "--validation-limit",
  "40",
  "--batch-size",
  "20",
  "--filters",
  "2",
  "--dense-units",
  "8",
  "--backend",
  "cpu",
  "--json",
];

function runCli(args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

test("mnist-lab train rejects bad parameters with one clear message and exit code 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--optimizer", "sgd"], /^error: Expected --optimizer to be one of rmsprop, adam but found "sgd"\n$/],
    [["--optimizer", "adam", "--epochs", "0"], /^error: Expected --epochs to be an integer ≥ 1 but found "0"\n$/],
    [["--optimizer", "adam", "--epochs", "ten"], /^error: Expected --epochs to be an integer ≥ 1 but found "ten"\n$/],
    [["--optimizer", "adam", "--batch-size", "8.5"], /^error: Expected --batch-size to be an integer ≥ 1 but found "8.5"\n$/],
    [["--optimizer", "rmsprop", "--seed", "-1"], /^error: Expected --seed to be an integer ≥ 0 but found "-1"\n$/],
    [["--optimizer", "adam", "--backend", "gpu"], /^error: Expected --backend to be one of auto, .*cpu but found "gpu"\n$/],
    [["--optimizer", "adam", "--validation", "train"], /^error: Expected --validation to be one of test, split but found "train"\n$/],
    [["--optimizer", "adam", "--schedule", "asrun"], /^error: Expected --schedule to be one of as-run, as-intended but found "asrun"\n$/],
    [["--optimizer", "adam", "--precision", "bf16"], /^error: Expected --precision to be one of float32, mixed_bfloat16 but found "bf16"/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(["train", ...args, "--runs-dir", tempDir()]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const missing = runCli(["train"]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /required option '--optimizer <name>' not specified/);
});

test("mnist-lab train refuses --train-limit, --validation-limit or --batch-size beyond the images, a batch above 4096 saying why", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--train-limit", "70000"], /^error: Expected --train-limit to be at most 60000 \(the MNIST training images\) but found 70000\n$/],
    [
      ["--validation-limit", "10001"],
      /^error: Expected --validation-limit to be at most 10000 \(the MNIST test images\) but found 10001\n$/,
    ],
    [["--batch-size", "100000"], /^error: Expected --batch-size to be at most 60000 \(the MNIST training images\) but found 100000\n$/],
    [
      ["--train-limit", "500", "--batch-size", "600"],
      /^error: Expected --batch-size to be at most 500 \(the --train-limit\) but found 600\n$/,
    ],
    [
      ["--batch-size", "8192"],
      new RegExp(
        "^error: Expected --batch-size to be at most 4096 but found 8192: training holds every layer's output for the whole batch " +
          "\\(0\\.56 MiB an image with the report's CNN\\), so 8192 images need 4\\.5 GiB before gradients\\n$",
      ),
    ],
  ];
  for (const [args, message] of cases) {
    const r = runCli(["train", "--optimizer", "adam", ...args, "--runs-dir", tempDir()]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "", "refused before the backend or the data load");
  }
});

test("mnist-lab train refuses a --train-limit beyond the images of a --data-dir once it is loaded", () => {
  const dataDir = tempDir();
  writeTinyMnist(dataDir, { trainCount: 30, testCount: 10 });
  const r = runCli([
    "train",
    "--optimizer",
    "adam",
    "--train-limit",
    "31",
    "--no-verify",
    "--data-dir",
    dataDir,
    "--backend",
    "cpu",
    "--runs-dir",
    tempDir(),
  ]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `error: Expected --train-limit to be at most 30 (the training images in ${dataDir}) but found 31\n`);
});

test("mnist-lab train with a --runs-dir or --data-dir it cannot use exits 2 with one line naming the path", () => {
  const file = path.join(tempDir(), "file");
  fs.writeFileSync(file, "x");
  const cases: Array<[string[], string]> = [
    [["--runs-dir", file], `error: Expected --runs-dir ${file} to be a writable directory but it is a file\n`],
    [
      ["--runs-dir", path.join(file, "runs")],
      `error: Expected --runs-dir ${path.join(file, "runs")} to be a writable directory but ${file} is a file\n`,
    ],
    // Where mkdir fails with ENOENT under an existing parent, Node's recursive mkdir would loop forever.
    [
      ["--runs-dir", "/proc/mnist-lab/runs"],
      "error: Expected --runs-dir /proc/mnist-lab/runs to be a writable directory but it cannot be made in /proc (ENOENT)\n",
    ],
    [
      ["--data-dir", "/nonexistent-mnist-lab-dir", "--runs-dir", tempDir()],
      "error: Expected --data-dir /nonexistent-mnist-lab-dir to be a directory but it does not exist\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    const r = runCli(["train", "--optimizer", "adam", ...args], 60_000);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, stderr);
  }
});

test("mnist-lab sweep checks --runs-dir and --results-dir before it trains, and refuses an unknown optimizer, schedule or profile", () => {
  const file = path.join(tempDir(), "file");
  fs.writeFileSync(file, "x");
  const cases: Array<[string[], string]> = [
    [["--runs-dir", file], `error: Expected --runs-dir ${file} to be a writable directory but it is a file\n`],
    // Only a full sweep writes results (a later --profile wins over the smoke one below).
    [
      ["--runs-dir", tempDir(), "--results-dir", file, "--profile", "full"],
      `error: Expected --results-dir ${file} to be a writable directory but it is a file\n`,
    ],
    [["--optimizer", "rmsprop,sgd"], 'error: Expected --optimizer to be a comma-separated list of "rmsprop" and "adam" but found "sgd"\n'],
    [["--schedule", "asrun"], 'error: Expected --schedule to be one of as-run, as-intended but found "asrun"\n'],
    [["--profile", "huge"], 'error: Expected --profile to be one of smoke, quick, full but found "huge"\n'],
    [["--precision", "bf16"], 'error: Expected --precision to be one of float32, mixed_bfloat16 but found "bf16"\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = runCli(["sweep", "--profile", "smoke", ...args], 60_000);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, stderr);
  }
});

test("mnist-lab train on a full disk prints one line naming the file and what survives, exits 1, and resumes once there is room", () => {
  const runsDir = tempDir();
  const full = spawnSync(
    process.execPath,
    ["--require", path.join(__dirname, "helpers", "full_disk.js"), BIN, "train", "--optimizer", "adam", ...TINY, "--runs-dir", runsDir],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, MNIST_LAB_TEST_FULL_DISK: "epoch-0002" },
    },
  );
  assert.equal(full.status, 1, full.stderr);
  // tfjs's cpu backend prints its banner on stderr first; the error is the one line after it.
  const errors = full.stderr.split("\n").filter((line) => line.startsWith("error:"));
  assert.equal(errors.length, 1, full.stderr);
  assert.match(
    errors[0],
    new RegExp(
      "^error: Expected to write \\/.*\\/adam-e3-b20-[^/]+\\/checkpoints\\/epoch-0002 but the disk is full \\(ENOSPC\\); " +
        "nothing was written in its place; free space and run this command again: the run resumes from its last checkpoint$",
    ),
  );
  assert.ok(full.stderr.trimEnd().endsWith(errors[0]), "nothing (no stack) after the error line");
  const resumed = runCli(["train", "--optimizer", "adam", ...TINY, "--runs-dir", runsDir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(lastJson(resumed.stdout).resumedFromEpoch, 1);
});

test("mnist-lab train killed with SIGKILL resumes after the last checkpoint and ends like an uninterrupted run", async () => {
  const straightDir = tempDir();
  const straight = runCli(["train", "--optimizer", "adam", ...TINY, "--runs-dir", straightDir]);
  assert.equal(straight.status, 0, straight.stderr);
  const expected = lastJson(straight.stdout);
  assert.equal(expected.status, "trained");
  assert.equal(expected.resumedFromEpoch, 0);

  const runsDir = tempDir();
  const runDir = path.join(runsDir, String(expected.runId));
  const child = spawn(process.execPath, [BIN, "train", "--optimizer", "adam", ...TINY, "--runs-dir", runsDir], {
    cwd: ROOT,
    stdio: "ignore",
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  // Kill as soon as the first epoch's checkpoint is on disk, i.e. somewhere inside epoch 2.
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(path.join(runDir, "checkpoints", "epoch-0001")) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL", "the child was killed, not finished");
  assert.ok(!fs.existsSync(path.join(runDir, "metrics.json")), "the killed run is unfinished");

  const resumed = runCli(["train", "--optimizer", "adam", ...TINY, "--runs-dir", runsDir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const result = lastJson(resumed.stdout);
  assert.equal(result.status, "resumed");
  assert.ok((result.resumedFromEpoch as number) >= 1 && (result.resumedFromEpoch as number) < 3, `resumed from ${result.resumedFromEpoch}`);
  assert.match(resumed.stdout, new RegExp(`Resuming run ${result.runId} after epoch ${result.resumedFromEpoch}/3`));
  assert.equal(result.epochsCompleted, 3);
  for (const key of ["runId", "optimizer", "epochs", "valAccuracy", "valLoss", "backend"]) assert.equal(result[key], expected[key], key);
  assert.equal(typeof result.secondsPerEpoch, "number");
  const history = parseHistoryCsv(fs.readFileSync(path.join(runDir, "history.csv"), "utf8"));
  const straightHistory = parseHistoryCsv(fs.readFileSync(path.join(straightDir, String(expected.runId), "history.csv"), "utf8"));
  assert.deepEqual(
    history.map((r) => r.epoch),
    [0, 1, 2],
  );
  assert.deepEqual(
    history.map((r) => r.val_loss),
    straightHistory.map((r) => r.val_loss),
  );

  // Finished: the same command now loads the run.
  const loaded = runCli(["train", "--optimizer", "adam", ...TINY, "--runs-dir", runsDir]);
  assert.equal(loaded.status, 0, loaded.stderr);
  assert.equal(lastJson(loaded.stdout).status, "loaded");
  assert.equal(lastJson(loaded.stdout).valLoss, expected.valLoss);
});

test("mnist-lab sweep does not train again a run whose result is kept, even with no run directory (a fresh clone)", () => {
  const [entry] = sweepEntries({ optimizers: ["rmsprop"], seeds: [7], schedule: "as-run", profile: "full" });
  const runsDir = tempDir();
  const resultsDir = tempDir();
  fs.mkdirSync(path.join(resultsDir, entry.runId));
  fs.writeFileSync(path.join(resultsDir, entry.runId, CHECKSUMS_FILE), "{}\n");
  assert.equal(sweepEntryProgress(entry, runsDir, resultsDir), "done");
  // Were the kept result missed, this would start a 40-epoch run: the timeout turns that into a failure.
  const r = runCli(
    ["sweep", "--profile", "full", "--optimizer", "rmsprop", "--seeds", "7", "--runs-dir", runsDir, "--results-dir", resultsDir],
    120_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`already in ${resultsDir}, not trained again: rmsprop seed 7\n`));
  assert.deepEqual(fs.readdirSync(runsDir), []);
});
