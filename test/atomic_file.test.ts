import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { removeStaleTemps, writeDirAtomic, writeFileAtomic } from "mnist-lab";
import { tempDir } from "./helpers/train_fixtures";

test("writeFileAtomic creates or replaces a file and leaves no temp file behind", async () => {
  const dir = tempDir();
  const file = path.join(dir, "sub", "metrics.json");
  await writeFileAtomic(file, "one");
  await writeFileAtomic(file, new Uint8Array([116, 119, 111]));
  assert.equal(fs.readFileSync(file, "utf8"), "two");
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["metrics.json"]);
});

test("writeDirAtomic creates a complete directory or nothing", async () => {
  const dir = tempDir();
  const target = path.join(dir, "epoch-0001");
  await writeDirAtomic(target, { "a.json": "{}", "b.bin": new Uint8Array([1, 2, 3]) });
  assert.deepEqual(fs.readdirSync(target).sort(), ["a.json", "b.bin"]);
  assert.deepEqual([...fs.readFileSync(path.join(target, "b.bin"))], [1, 2, 3]);
  // The target exists: rename fails and the temp directory is cleaned up.
  fs.writeFileSync(path.join(target, "c"), "x");
  await assert.rejects(writeDirAtomic(target, { "a.json": "[]" }));
  assert.deepEqual(fs.readdirSync(dir), ["epoch-0001"]);
  assert.equal(fs.readFileSync(path.join(target, "a.json"), "utf8"), "{}");
});

test("removeStaleTemps removes what a killed writer left, and nothing else", async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, ".history.csv.tmp-123-0badc0de"), "partial");
  fs.mkdirSync(path.join(dir, ".epoch-0002.tmp-123-0badc0de"));
  fs.writeFileSync(path.join(dir, "history.csv"), "ok");
  await removeStaleTemps(dir);
  assert.deepEqual(fs.readdirSync(dir), ["history.csv"]);
});
