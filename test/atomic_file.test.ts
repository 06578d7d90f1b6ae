import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { MnistLabError, removeStaleTemps, writeDirAtomic, writeFileAtomic } from "mnist-lab";
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

function diskError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, write`), { code });
}

/** Makes every file handle opened from now on fail its writes with `code`, as a full disk does. */
function failWrites(t: TestContext, code: string): void {
  const open = fs.promises.open;
  t.mock.method(fs.promises, "open", async (...args: Parameters<typeof open>) => {
    const handle = await open(...args);
    handle.writeFile = async () => {
      throw diskError(code);
    };
    return handle;
  });
}

test("writeFileAtomic on a full disk throws one line naming the file, keeps its previous version and leaves no temp file", async (t) => {
  const dir = tempDir();
  const file = path.join(dir, "metrics.json");
  await writeFileAtomic(file, "old");
  failWrites(t, "ENOSPC");
  const err = await writeFileAtomic(file, "new").catch((e: unknown) => e);
  assert.ok(err instanceof MnistLabError);
  assert.equal(err.message, `Expected to write ${file} but the disk is full (ENOSPC); its previous version is intact`);
  assert.equal((err.cause as NodeJS.ErrnoException).code, "ENOSPC");
  assert.equal(fs.readFileSync(file, "utf8"), "old");
  assert.deepEqual(fs.readdirSync(dir), ["metrics.json"]);
  await assert.rejects(
    writeFileAtomic(path.join(dir, "history.csv"), "x"),
    /^MnistLabError: Expected to write .*history\.csv but the disk is full \(ENOSPC\); nothing was written in its place$/,
  );
  assert.deepEqual(fs.readdirSync(dir), ["metrics.json"]);
});

test("writeDirAtomic over quota or on a read-only disk throws one line naming the directory; other errors pass through", async (t) => {
  const dir = tempDir();
  const target = path.join(dir, "checkpoints", "epoch-0002");
  failWrites(t, "EDQUOT");
  await assert.rejects(
    writeDirAtomic(target, { "a.json": "{}" }),
    /^MnistLabError: Expected to write .*epoch-0002 but the disk quota is used up \(EDQUOT\); nothing was written in its place$/,
  );
  assert.deepEqual(fs.readdirSync(path.join(dir, "checkpoints")), []);
  t.mock.restoreAll();
  t.mock.method(fs.promises, "mkdir", async () => {
    throw diskError("EROFS");
  });
  await assert.rejects(
    writeFileAtomic(path.join(dir, "ro", "config.json"), "{}"),
    /^MnistLabError: Expected to write .*config\.json but the file system is read-only \(EROFS\)/,
  );
  t.mock.restoreAll();
  failWrites(t, "EIO");
  await assert.rejects(
    writeFileAtomic(path.join(dir, "x.json"), "{}"),
    (e: NodeJS.ErrnoException) => !(e instanceof MnistLabError) && e.code === "EIO",
  );
});
