import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  MNIST_FILES,
  classCounts,
  encodeIdx,
  loadMnist,
  projectRoot,
  resolveMnistDir,
} from "mnist-lab";
import { tempDir, tinyImages, writeTinyMnist } from "./helpers/idx_fixtures";

const noVerify = { verifyChecksums: false };

test("loadMnist reads the real MNIST with the published counts and checksums", async () => {
  const mnist = await loadMnist();
  assert.equal(mnist.train.count, 60000);
  assert.equal(mnist.test.count, 10000);
  assert.equal(mnist.train.images.length, 60000 * 784);
  assert.equal(mnist.checksums, "verified");
  assert.deepEqual(classCounts(mnist.train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(classCounts(mnist.test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

test("loadMnist reads raw and gzipped files from a directory", async () => {
  for (const gzip of [false, true]) {
    const dir = tempDir();
    writeTinyMnist(dir, { trainCount: 20, testCount: 10, gzip });
    const mnist = await loadMnist({ dataDir: dir, ...noVerify });
    assert.equal(mnist.train.count, 20);
    assert.equal(mnist.test.count, 10);
    assert.equal(mnist.sourceKind, "option");
    assert.equal(mnist.checksums, "skipped");
    assert.deepEqual(Array.from(mnist.test.images.subarray(0, 784)), Array.from(tinyImages(1)));
    assert.deepEqual(classCounts(mnist.train.labels), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  }
});

test("loadMnist verifies known files by MD5 and names the mismatching file", async () => {
  const dir = tempDir();
  writeTinyMnist(dir);
  await assert.rejects(loadMnist({ dataDir: dir }), (err: Error) => {
    assert.match(
      err.message,
      /^Expected MD5 [0-9a-f]{32} \(the original train-images-idx3-ubyte\) for .*train-images-idx3-ubyte but found [0-9a-f]{32}/,
    );
    return true;
  });
});

test("MNIST_DATA_DIR is used when no directory is passed", async () => {
  const dir = tempDir();
  writeTinyMnist(dir, { trainCount: 10, testCount: 10 });
  process.env.MNIST_DATA_DIR = dir;
  try {
    assert.deepEqual(resolveMnistDir(), { dir, kind: "env" });
    assert.equal((await loadMnist(noVerify)).train.count, 10);
  } finally {
    delete process.env.MNIST_DATA_DIR;
  }
});

test("loadMnist rejects a missing directory and a directory with only some files", async () => {
  await assert.rejects(
    loadMnist({ dataDir: "/does/not/exist" }),
    /Expected a directory with the MNIST IDX files for dataDir but \/does\/not\/exist does not exist$/,
  );
  const dir = tempDir();
  await assert.rejects(
    loadMnist({ dataDir: dir }),
    /found none: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte/,
  );
  writeTinyMnist(dir);
  fs.rmSync(path.join(dir, MNIST_FILES.testLabels.name));
  await assert.rejects(loadMnist({ dataDir: dir }), /but these are missing: t10k-labels-idx1-ubyte$/);
});

/** Writes a valid tiny set, then replaces one file with `bytes`. */
async function loadWithFile(name: string, bytes: Uint8Array): Promise<unknown> {
  const dir = tempDir();
  writeTinyMnist(dir, { trainCount: 20, testCount: 10 });
  fs.writeFileSync(path.join(dir, name), bytes);
  return loadMnist({ dataDir: dir, ...noVerify });
}

test("loadMnist rejects bad files with the file, what was expected and what was found", async () => {
  const cases: [string, Uint8Array, RegExp][] = [
    [MNIST_FILES.trainImages.name, new Uint8Array(0), /Expected an IDX file in .*train-images-idx3-ubyte but found an empty file/],
    [
      MNIST_FILES.trainImages.name,
      encodeIdx(IDX_LABELS_MAGIC, [20], new Uint8Array(20)),
      /Expected 2051 \(images magic\) in .*train-images-idx3-ubyte but found 2049/,
    ],
    [
      MNIST_FILES.testLabels.name,
      encodeIdx(IDX_LABELS_MAGIC, [10], new Uint8Array(10)).subarray(0, 12),
      /Expected 18 bytes in .*t10k-labels-idx1-ubyte .* but found 12: the file is truncated/,
    ],
    [
      MNIST_FILES.testLabels.name,
      encodeIdx(IDX_LABELS_MAGIC, [9], new Uint8Array(9)),
      /Expected as many labels as images \(10 in .*t10k-images-idx3-ubyte\) but found 9 in .*t10k-labels-idx1-ubyte/,
    ],
    [
      MNIST_FILES.trainImages.name,
      encodeIdx(IDX_IMAGES_MAGIC, [20, 14, 56], tinyImages(20)),
      /Expected images of shape \[N, 28, 28\] in .*train-images-idx3-ubyte but found \[20, 14, 56\]/,
    ],
    [
      MNIST_FILES.trainLabels.name,
      encodeIdx(IDX_LABELS_MAGIC, [20], new Uint8Array(20).fill(12)),
      /Expected labels 0–9 in .*train-labels-idx1-ubyte but found 12 at index 0/,
    ],
    [
      `${MNIST_FILES.trainImages.name}`,
      Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3),
      /Expected a valid gzip stream in .*train-images-idx3-ubyte but decompressing failed/,
    ],
  ];
  for (const [name, bytes, pattern] of cases) await assert.rejects(loadWithFile(name, bytes), pattern);
});

test("loadMnist's dataDir takes ~ as the home directory and a relative path from the project root, whatever the cwd", async () => {
  const home = tempDir();
  fs.mkdirSync(path.join(home, "mnist"));
  writeTinyMnist(path.join(home, "mnist"), { trainCount: 10, testCount: 10 });
  const savedHome = process.env.HOME;
  const savedCwd = process.cwd();
  process.env.HOME = home;
  process.chdir(os.tmpdir()); // a notebook kernel runs in notebooks/, the CLI wherever it was started
  try {
    assert.equal((await loadMnist({ dataDir: "~/mnist", ...noVerify })).sourceDir, path.join(home, "mnist"));
    const relative = path.relative(projectRoot(), path.join(home, "mnist"));
    assert.equal((await loadMnist({ dataDir: relative, ...noVerify })).sourceDir, path.join(home, "mnist"));
    await assert.rejects(
      loadMnist({ dataDir: "~/Downloads/mnist" }),
      (err: Error) =>
        err.message ===
        `Expected a directory with the MNIST IDX files for dataDir ("~/Downloads/mnist") ` +
          `but ${path.join(home, "Downloads", "mnist")} does not exist`,
    );
    await assert.rejects(loadMnist({ dataDir: "nowhere", dataDirName: "--data-dir" }), (err: Error) =>
      err.message.startsWith(
        `Expected a directory with the MNIST IDX files for --data-dir ("nowhere") but ${path.join(projectRoot(), "nowhere")} `,
      ),
    );
  } finally {
    process.chdir(savedCwd);
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
  }
});
