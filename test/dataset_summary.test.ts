import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMnistSummary, loadMnist, summarizeMnist } from "mnist-lab";
import { tempDir, writeTinyMnist } from "./helpers/idx_fixtures";

test("summarizeMnist reports counts, class counts, the report's shapes and NaN checks", async () => {
  const dir = tempDir();
  writeTinyMnist(dir, { trainCount: 20, testCount: 10 });
  const s = summarizeMnist(await loadMnist({ dataDir: dir, verifyChecksums: false }));
  assert.equal(s.train.count, 20);
  assert.deepEqual(s.train.classCounts, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  assert.deepEqual(s.train.imageShape, [20, 28, 28, 1]);
  assert.deepEqual(s.test.oneHotShape, [10, 10]);
  assert.equal(s.test.hasNaN, false);
  assert.equal(s.checksums, "skipped");
  const text = formatMnistSummary(s);
  assert.match(text, /train +20 images/);
  assert.match(text, /checksums +not checked/);
  assert.match(text, /y_test \(10,\)/);
});
