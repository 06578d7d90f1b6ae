#!/usr/bin/env node
// Runs test/*.test.ts (or the files given) on Node's built-in test runner, through ts-node.
// Type checking is `npm run typecheck`; here ts-node only transpiles, which keeps start-up fast.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.join(__dirname, "..");
const files =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : fs
        .readdirSync(path.join(root, "test"))
        .filter((f) => f.endsWith(".test.ts"))
        .sort()
        .map((f) => path.join("test", f));
// Tests never write into the project's runs/: notebooks and the CLI executed by tests keep theirs in a temp folder.
const runsDir = process.env.MNIST_LAB_RUNS_DIR ? null : fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-test-runs-"));
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--require", "ts-node/register", ...files], {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    ...(runsDir ? { MNIST_LAB_RUNS_DIR: runsDir } : {}),
    TS_NODE_TRANSPILE_ONLY: "true",
    TS_NODE_PROJECT: path.join(root, "tsconfig.json"),
  },
});
if (runsDir) fs.rmSync(runsDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
