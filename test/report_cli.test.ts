// Bad values for `mnist-lab report` and `mnist-lab notebook` are one-line usage errors (exit 2), found
// before anything starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareReportDir, projectRoot } from "mnist-lab";

const cli = path.join(projectRoot(), "bin", "mnist-lab");
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("mnist-lab report --only with an unknown notebook is a usage error naming the notebooks", () => {
  const r = run("report", "--profile", "smoke", "--only", "zz", "--out", "/nonexistent/never-written");
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: Expected --only to name notebooks among 00_data, 01_model, .* \(or their numbers\) but found "zz"\n$/);
});

test("mnist-lab report --seed refuses what train --seed refuses: 1e3, 0x10 and an empty string", () => {
  for (const seed of ["1e3", "0x10", "", "-1", "1.5"]) {
    const r = run("report", "--profile", "smoke", "--seed", seed, "--out", "/nonexistent/never-written");
    assert.equal(r.code, 2, `--seed ${JSON.stringify(seed)}: ${r.stderr}`);
    assert.equal(r.stderr, `error: Expected --seed to be an integer ≥ 0 but found ${JSON.stringify(seed)}\n`);
  }
});

test("mnist-lab report --schedule names the two schedules when given another", () => {
  const r = run("report", "--profile", "smoke", "--schedule", "asrun", "--out", "/nonexistent/never-written");
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'error: Expected --schedule to be one of as-run, as-intended but found "asrun"\n');
});

test("mnist-lab notebook --port abc is a one-line usage error, not Jupyter's traceback", () => {
  for (const port of ["abc", "0", "65536", "80.5"]) {
    const r = run("notebook", "--port", port);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `error: Expected --port to be an integer from 1 to 65535 but found ${JSON.stringify(port)}\n`);
  }
});

test("mnist-lab report --out where no report can be written is one line naming what was expected and found (exit 2)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-report-out-"));
  const file = path.join(dir, "a-file");
  fs.writeFileSync(file, "");
  const long = "n".repeat(300);
  const cases: [string, string][] = [
    [file, `Expected --out ${file} to be a folder the report can write in but it is a file`],
    [path.join(file, "sub"), `Expected --out ${file}/sub to be a folder the report can write in but ${file} is a file`],
    [
      path.join(dir, long),
      `Expected --out ${dir}/${long} to be a folder the report can write in but the name "${"n".repeat(24)}…" is 300 bytes, ` +
        "more than the 255 a file system takes",
    ],
    [
      "/proc/mnist-lab-report",
      "Expected --out /proc/mnist-lab-report to be a folder the report can write in but no folder can be made in /proc (ENOENT)",
    ],
  ];
  try {
    for (const [out, message] of cases) {
      const r = run("report", "--profile", "smoke", "--only", "00", "--out", out);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `error: ${message}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("mnist-lab report --out inside the source notebooks is refused before anything is made there", () => {
  const inside = path.join(projectRoot(), "notebooks", `report-${process.pid}`);
  const r = run("report", "--profile", "smoke", "--only", "00", "--out", inside);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: Expected a report folder outside the source notebooks .* but found .*\n$/);
  assert.equal(fs.existsSync(inside), false);
});

test("prepareReportDir makes a folder under missing parents and leaves nothing else in it", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-report-out-"));
  try {
    const out = path.join(dir, "missing", "parents", "report");
    assert.equal(prepareReportDir(out), out);
    assert.deepEqual(fs.readdirSync(out), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
