// `mnist-lab results` prints what 04_reproduction computes from a results folder: tables and verdicts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";

const cli = path.join(projectRoot(), "bin", "mnist-lab");
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Two runs committed by the sweep (seed 1 of each optimizer): copied, so runs committed later do not change the test.
const COMMITTED = ["rmsprop-e40-b86-aug-asrun-s1-944446ed", "adam-e40-b86-aug-asrun-s1-94e84a0e"];

function resultsCopy(): string {
  const dir = tempDir();
  for (const id of COMMITTED) fs.cpSync(path.join(projectRoot(), "results", id), path.join(dir, id), { recursive: true });
  return dir;
}

test("mnist-lab results prints the seed table, one row per run and the verdicts from the folder's files", () => {
  const dir = resultsCopy();
  const r = run("results", "--results-dir", dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^2 full-profile run\\(s\\) in ${dir}\n`));
  for (const id of COMMITTED) {
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, id, "metrics.json"), "utf8"));
    const label = id.startsWith("rmsprop") ? "RMSprop" : "Adam";
    const final = `${(100 * metrics.valAccuracy).toFixed(2)}%`;
    const best = `${(100 * metrics.bestValAccuracy).toFixed(2)}% (epoch ${metrics.bestEpoch})`;
    const recipe = "as-run, clipped loss, padding sss";
    assert.ok(r.stdout.includes(`| ${label} | ${recipe} | 1 | ${final} | ${best} |`), `${label}'s run row in\n${r.stdout}`);
    assert.ok(r.stdout.includes(`| ${label} | ${recipe} | 1 | ${final} (n = 1) |`), `${label}'s seed row`);
  }
  assert.match(
    r.stdout,
    /\n- as-run, clipped loss, padding sss: RMSprop .* vs Adam .*; no test \(needs at least 2 seeds per side \(found 1 and 1\)\)\.\n/,
  );

  const json = run("results", "--results-dir", dir, "--json");
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.deepEqual(
    parsed.groups.map((g: { optimizer: string; runs: string[] }) => [g.optimizer, g.runs]),
    [
      ["rmsprop", [COMMITTED[0]]],
      ["adam", [COMMITTED[1]]],
    ],
  );
  assert.equal(parsed.verdicts.reproduction.length, 2);
});

test("mnist-lab results on an empty folder says so; a missing folder is a usage error", () => {
  const empty = run("results", "--results-dir", tempDir());
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(
    empty.stdout,
    /^0 full-profile run\(s\) in .*\n\n- No full-profile runs in results\/ yet: nothing to compare with the report\.\n/,
  );
  const missing = run("results", "--results-dir", "/nonexistent/results");
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "error: Expected --results-dir /nonexistent/results to be a directory but it does not exist\n");
});
