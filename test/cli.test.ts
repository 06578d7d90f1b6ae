import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
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
  assert.match(r.stderr, /Expected --profile smoke, quick, full but found "huge"/);
});
