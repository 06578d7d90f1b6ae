// The on-disk cache of scaled pixels: a round trip gives the same values, and anything off (other counts,
// a changed byte, a bad header, a truncated or missing file) is ignored rather than trusted.
import { test } from "node:test";
import assert from "node:assert/strict";
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
