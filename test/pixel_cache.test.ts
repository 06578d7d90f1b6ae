// The on-disk cache of scaled pixels: a round trip gives the same values, and anything off (other counts,
// a changed byte, a bad header, a truncated or missing file) is ignored rather than trusted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readPixelCache, scaleToUnit, writePixelCache } from "mnist-lab";
import { tempDir, tinyImages } from "./helpers/idx_fixtures";

function pixels(): { train: Float32Array; test: Float32Array } {
  return { train: scaleToUnit(tinyImages(3)), test: scaleToUnit(tinyImages(2)) };
}

test("writePixelCache then readPixelCache gives the same pixels", async () => {
  const file = path.join(tempDir(), "cache.f32");
  const written = pixels();
  await writePixelCache(written, file);
  const read = await readPixelCache(3, 2, file);
  assert.ok(read, "the cache is read back");
  assert.deepEqual(read.train, written.train);
  assert.deepEqual(read.test, written.test);
  assert.equal(fs.readdirSync(path.dirname(file)).length, 1, "no temp file is left beside it");
});

test("readPixelCache ignores a missing file, other counts, a changed payload byte, a bad header and a truncated file", async () => {
  const dir = tempDir();
  const file = path.join(dir, "cache.f32");
  assert.equal(await readPixelCache(3, 2, file), null, "missing");
  await writePixelCache(pixels(), file);
  assert.equal(await readPixelCache(2, 3, file), null, "other counts");
  const good = fs.readFileSync(file);
  const variants: Array<[string, (b: Buffer) => Buffer]> = [
    ["payload byte", (b) => { b[b.length - 5] ^= 1; return b; }],
    ["magic", (b) => { b[0] = 0x58; return b; }],
    ["version", (b) => { b[8] = 9; return b; }],
    ["truncated", (b) => b.subarray(0, b.length - 4)],
    ["empty", () => Buffer.alloc(0)],
  ];
  for (const [name, change] of variants) {
    const bad = path.join(dir, `${name}.f32`);
    fs.writeFileSync(bad, change(Buffer.from(good)));
    assert.equal(await readPixelCache(3, 2, bad), null, name);
  }
});

test("readPixelCache returns a private copy: truncating the file afterwards leaves the pixels readable", () => {
  // In a child process: when the cache is mapped instead, touching the pixels after the truncation is a SIGBUS.
  const file = path.join(tempDir(), "cache.f32");
  const child = `
    const fs = require("node:fs");
    const { readPixelCache, scaleToUnit, writePixelCache } = require(process.argv[1]);
    const { tinyImages } = require(process.argv[2]);
    (async () => {
      const written = { train: scaleToUnit(tinyImages(3)), test: scaleToUnit(tinyImages(2)) };
      await writePixelCache(written, process.argv[3]);
      const read = await readPixelCache(3, 2, process.argv[3]);
      fs.truncateSync(process.argv[3], 0);
      const same = read.train.every((v, i) => v === written.train[i]) && read.test.every((v, i) => v === written.test[i]);
      process.stdout.write(same ? "same" : "different");
    })();`;
  const r = spawnSync(process.execPath, ["--require", "ts-node/register", "-e", child, require.resolve("mnist-lab"), require.resolve("./helpers/idx_fixtures"), file], {
    encoding: "utf8",
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
  });
  assert.equal(r.signal, null, `the reader was killed by ${r.signal}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "same");
});
