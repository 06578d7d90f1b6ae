import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultRunsDir, projectRoot } from "mnist-lab";

test("projectRoot is the folder of mnist-lab's package.json", () => {
  const root = projectRoot();
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).name, "mnist-lab");
  assert.ok(fs.existsSync(path.join(root, "notebooks")));
});

test("a relative MNIST_LAB_RUNS_DIR resolves from the project root whatever the working directory", () => {
  const saved = { dir: process.cwd(), env: process.env.MNIST_LAB_RUNS_DIR };
  try {
    process.env.MNIST_LAB_RUNS_DIR = "elsewhere/runs";
    for (const cwd of [projectRoot(), path.join(projectRoot(), "notebooks")]) {
      process.chdir(cwd);
      assert.equal(defaultRunsDir(), path.join(projectRoot(), "elsewhere", "runs"), `from ${cwd}`);
    }
  } finally {
    process.chdir(saved.dir);
    if (saved.env === undefined) delete process.env.MNIST_LAB_RUNS_DIR;
    else process.env.MNIST_LAB_RUNS_DIR = saved.env;
  }
});
