import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "mnist-lab";
import { tempDir, writeTinyMnist } from "./helpers/idx_fixtures";

const cli = path.join(projectRoot(), "bin", "mnist-lab");
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, MNIST_DATA_DIR: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("mnist-lab data --json prints one JSON object with counts and class counts", () => {
  const r = run("data", "--json");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]);
  assert.equal(s.train.count, 60000);
  assert.equal(s.test.count, 10000);
  assert.deepEqual(s.train.classCounts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(s.test.classCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(s.checksums, "verified");
  assert.equal(s.train.hasNaN, false);
  assert.deepEqual(s.train.imageShape, [60000, 28, 28, 1]);
  assert.equal(typeof s.loadMilliseconds, "number");
});

test("mnist-lab data prints a readable summary for a --data-dir", () => {
  const dir = tempDir();
  writeTinyMnist(dir, { trainCount: 30, testCount: 10, gzip: true });
  const r = run("data", "--data-dir", dir, "--no-verify");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`source +${dir} \\(option\\)`));
  assert.match(r.stdout, /train +30 images +3 +3 +3/);
  assert.match(r.stdout, /NaN +train false, test false/);
});

test("mnist-lab data on bad input prints one message, no stack, and exits 1; --debug adds the stack", () => {
  const dir = tempDir();
  const r = run("data", "--data-dir", dir);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /^error: Expected the four MNIST files \(raw or \.gz\) in .* but found none/);
  const debug = run("--debug", "data", "--data-dir", dir);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /\n\s+at /);
});

test("mnist-lab rejects unknown options and profiles with exit code 2", () => {
  assert.equal(run("data", "--bogus").code, 2);
  const r = run("report", "--profile", "huge");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Expected --profile to be one of smoke, quick, full but found "huge"/);
});

test("mnist-lab prints an unknown option or command as one line that points to the help, with exit code 2", () => {
  const cases: Array<[string[], string]> = [
    [["data", "--bogus"], "error: unknown option '--bogus'; see mnist-lab data --help\n"],
    [
      ["train", "--optimizer", "adam", "--optimiser", "adam"],
      "error: unknown option '--optimiser' (Did you mean --optimizer?); see mnist-lab train --help\n",
    ],
    [["trian"], "error: unknown command 'trian' (Did you mean train?); see mnist-lab --help\n"],
  ];
  for (const [args, stderr] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr, stderr);
    assert.equal(r.stdout, "");
  }
});

test("mnist-lab --help lists the exit codes", () => {
  const r = run("--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Exit codes: 0 done, 1 failed .*, 2 bad command line/);
});

test("mnist-lab data --data-dir that does not exist or is a file exits 2 with one line naming it", () => {
  const file = path.join(tempDir(), "file");
  fs.writeFileSync(file, "x");
  const cases: Array<[string, string]> = [
    ["/nonexistent-mnist-lab-dir", "error: Expected --data-dir /nonexistent-mnist-lab-dir to be a directory but it does not exist\n"],
    [file, `error: Expected --data-dir ${file} to be a directory but it is a file\n`],
  ];
  for (const [dir, stderr] of cases) {
    const r = run("data", "--data-dir", dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, stderr);
  }
});

test("mnist-lab bench refuses a --batch-size beyond the training images or above 4096, with exit code 2 and one line", () => {
  const beyond = run("bench", "--batch-size", "100000");
  assert.equal(beyond.code, 2);
  assert.equal(beyond.stderr, "error: Expected --batch-size to be at most 60000 (the MNIST training images) but found 100000\n");
  const large = run("bench", "--batch-size", "5000");
  assert.equal(large.code, 2);
  assert.match(
    large.stderr,
    new RegExp(
      "^error: Expected --batch-size to be at most 4096 but found 5000: training holds every layer's output for the whole batch " +
        "\\(0\\.56 MiB an image with the report's CNN\\), so 5000 images need 2\\.7 GiB before gradients\\n$",
    ),
  );
});
