import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, encodeIdx, gunzipIfNeeded, isGzip, parseIdx } from "mnist-lab";
import { tinyImages } from "./helpers/idx_fixtures";

test("encodeIdx/parseIdx round trip keeps shape and values", () => {
  const data = tinyImages(3);
  const parsed = parseIdx(encodeIdx(IDX_IMAGES_MAGIC, [3, 28, 28], data), "x", IDX_IMAGES_MAGIC);
  assert.deepEqual(parsed.shape, [3, 28, 28]);
  assert.deepEqual(Array.from(parsed.data), Array.from(data));
  assert.equal(parsed.data.constructor, Uint8Array);
});

test("parseIdx rejects a wrong magic number, naming file, expected and found", () => {
  const labels = encodeIdx(IDX_LABELS_MAGIC, [2], Uint8Array.of(1, 2));
  assert.throws(() => parseIdx(labels, "data/train-images-idx3-ubyte", IDX_IMAGES_MAGIC), {
    message: "Expected 2051 (images magic) in data/train-images-idx3-ubyte but found 2049 (labels magic)",
  });
});

test("parseIdx rejects an empty file", () => {
  assert.throws(() => parseIdx(new Uint8Array(0), "f", IDX_LABELS_MAGIC), /Expected an IDX file in f but found an empty file/);
});

test("parseIdx rejects a truncated header", () => {
  const bytes = encodeIdx(IDX_IMAGES_MAGIC, [1, 28, 28], tinyImages(1)).subarray(0, 10);
  assert.throws(
    () => parseIdx(bytes, "f", IDX_IMAGES_MAGIC),
    /Expected a 16-byte IDX header \(3 dimensions\) in f but the file has only 10 bytes/,
  );
  assert.throws(() => parseIdx(Uint8Array.of(0, 0), "f", IDX_IMAGES_MAGIC), /4-byte IDX magic number in f but found only 2 bytes/);
});

test("parseIdx rejects truncated data and trailing bytes", () => {
  const full = encodeIdx(IDX_IMAGES_MAGIC, [2, 28, 28], tinyImages(2));
  assert.throws(
    () => parseIdx(full.subarray(0, full.length - 1), "f", IDX_IMAGES_MAGIC),
    /Expected 1584 bytes in f .* but found 1583: the file is truncated/,
  );
  const longer = new Uint8Array(full.length + 3);
  longer.set(full);
  assert.throws(() => parseIdx(longer, "f", IDX_IMAGES_MAGIC), /found 1587: the file is longer than its header says/);
});

test("gunzipIfNeeded passes raw bytes and inflates gzip", () => {
  const raw = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 0);
  assert.equal(isGzip(raw), false);
  assert.equal(gunzipIfNeeded(raw, "f"), raw);
  const gz = gzipSync(raw);
  assert.equal(isGzip(gz), true);
  assert.deepEqual(Array.from(gunzipIfNeeded(gz, "f")), Array.from(raw));
});

test("gunzipIfNeeded names the file of a corrupt gzip stream", () => {
  const gz = gzipSync(tinyImages(2));
  assert.throws(
    () => gunzipIfNeeded(gz.subarray(0, 40), "data/t10k-images-idx3-ubyte.gz"),
    /Expected a valid gzip stream in data\/t10k-images-idx3-ubyte.gz but decompressing failed/,
  );
});
