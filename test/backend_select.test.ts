// Backend selection: the chain, the overrides, and the errors and warnings when the addon is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { BACKEND_CHAIN, formatBackendDiagnostics, initBackend, loadNativeBinding } from "mnist-lab";

const root = path.join(__dirname, "..");

/** Runs initBackend in a fresh process (the addon loads once per process) and returns its output. */
function selectInChild(env: Record<string, string>, preferred?: string) {
  const script =
    `require("mnist-lab").initBackend(${preferred ? JSON.stringify(preferred) : ""}).then(` +
    `(r) => console.log(JSON.stringify(r)), (e) => { console.log("ERROR " + e.message); process.exitCode = 3; })`;
  const r = spawnSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("initBackend auto chooses onednn when the addon is built and explains the others", async () => {
  assert.equal(loadNativeBinding().error, null);
  const saved = process.env.MNIST_BACKEND;
  delete process.env.MNIST_BACKEND;
  try {
    const report = await initBackend();
    assert.equal(report.active, "onednn");
    assert.equal(tf.getBackend(), "onednn");
    assert.deepEqual(
      report.candidates.map((c) => c.name),
      [...BACKEND_CHAIN],
    );
    assert.match(report.candidates[0].reason, /not installed|failed to load/);
    assert.match(report.candidates[2].reason, /onednn comes first/);
    assert.match(formatBackendDiagnostics(report), /active backend: onednn/);
    assert.ok((report.onednn?.threads ?? 0) >= 1);
  } finally {
    if (saved !== undefined) process.env.MNIST_BACKEND = saved;
  }
});

test("initBackend argument cpu overrides the chain", async () => {
  const report = await initBackend("cpu");
  assert.equal(report.active, "cpu");
  assert.equal(report.requestedBy, "argument");
  assert.equal(tf.getBackend(), "cpu");
});

test("initBackend MNIST_BACKEND=cpu overrides the chain", async () => {
  process.env.MNIST_BACKEND = "cpu";
  try {
    const report = await initBackend();
    assert.equal(report.active, "cpu");
    assert.equal(report.requestedBy, "MNIST_BACKEND");
  } finally {
    delete process.env.MNIST_BACKEND;
  }
});

test("initBackend unknown name throws naming the value and the choices", async () => {
  await assert.rejects(initBackend("gpu"), /Expected a backend among auto, tensorflow, onednn, wasm, cpu .* but found "gpu"/);
});

test("initBackend onednn requested explicitly without the addon fails with reasons and possible solutions", () => {
  const r = selectInChild({ MNIST_ONEDNN_ADDON: "/nonexistent/mnist_onednn.node" }, "onednn");
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /ERROR The onednn backend was requested \(by argument\) but the addon is not built: \/nonexistent/);
  assert.match(r.stdout, /Possible solutions:\n- run `npm run setup`/);
  assert.match(r.stdout, /apt-get install -y libdnnl-dev/);
});

test("initBackend auto without the addon warns once and falls back to wasm", () => {
  const r = selectInChild({ MNIST_ONEDNN_ADDON: "/nonexistent/mnist_onednn.node", MNIST_BACKEND: "" });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(report.active, "wasm");
  assert.match(report.candidates[1].reason, /not built/);
  assert.equal(r.stderr.match(/onednn backend is unavailable/g)?.length, 1);
});

test("initBackend onednn with a file that is not the addon fails saying none of its functions is there", () => {
  const r = selectInChild({ MNIST_ONEDNN_ADDON: path.join(root, "package.json") }, "onednn");
  assert.equal(r.status, 3);
  assert.match(
    r.stdout,
    /the addon does not match lib\/backend .*: Expected the addon to export the \d+ functions .* but found none of them\./,
  );
});

test("initBackend onednn with an addon whose enums disagree with lib/backend fails naming the enum, name, expected and found", () => {
  // The real addon with one code changed, loaded through MNIST_ONEDNN_ADDON (require takes a .js file as well).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-addon-"));
  const addon = path.join(dir, "mismatched_addon.js");
  const real = JSON.stringify(path.join(root, "native", "build", "Release", "mnist_onednn.node"));
  fs.writeFileSync(
    addon,
    `const real = require(${real});\n` +
      `module.exports = { ...real, enums: { ...real.enums, reduceOp: { ...real.enums.reduceOp, Mean: 4.5 } } };\n`,
  );
  try {
    const r = selectInChild({ MNIST_ONEDNN_ADDON: addon }, "onednn");
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /the addon does not match lib\/backend \(rebuild it: npm run build:native\): /);
    assert.match(r.stdout, /Expected the addon's enum reduceOp to give Mean a non-negative integer code but found 4\.5\./);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("mnist-lab backend --json prints the active backend and every candidate's reason", () => {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "mnist-lab"), "backend", "--json"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, MNIST_BACKEND: "" },
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(report.active, "onednn");
  assert.deepEqual(
    report.candidates.map((c: { name: string }) => c.name),
    [...BACKEND_CHAIN],
  );
  for (const c of report.candidates) assert.ok(c.reason.length > 0);
});

test("mnist-lab backend --backend gpu is a usage error (exit 2)", () => {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "mnist-lab"), "backend", "--backend", "gpu"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Expected --backend to be one of auto, tensorflow, onednn, wasm, cpu but found "gpu"/);
});
