import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "mnist-lab";

test("projectRoot is the folder of mnist-lab's package.json", () => {
  const root = projectRoot();
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).name, "mnist-lab");
  assert.ok(fs.existsSync(path.join(root, "notebooks")));
});
