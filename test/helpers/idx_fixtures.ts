import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MNIST_FILES, encodeIdx } from "mnist-lab";

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = "mnist-lab-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic tiny images: image i has pixel p = (i * 7 + p) mod 256. */
export function tinyImages(count: number): Uint8Array {
  const data = new Uint8Array(count * 784);
  for (let i = 0; i < data.length; i++) data[i] = (Math.floor(i / 784) * 7 + (i % 784)) % 256;
  return data;
}

/** Writes the four MNIST files (train `trainCount`, test `testCount` images) into `dir`, optionally gzipped. */
export function writeTinyMnist(dir: string, options: { trainCount?: number; testCount?: number; gzip?: boolean } = {}): void {
  const { trainCount = 20, testCount = 10, gzip = false } = options;
  const write = (name: string, bytes: Uint8Array) =>
    fs.writeFileSync(path.join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  write(MNIST_FILES.trainImages.name, encodeIdx(IDX_IMAGES_MAGIC, [trainCount, 28, 28], tinyImages(trainCount)));
  write(MNIST_FILES.trainLabels.name, encodeIdx(IDX_LABELS_MAGIC, [trainCount], labels(trainCount)));
  write(MNIST_FILES.testImages.name, encodeIdx(IDX_IMAGES_MAGIC, [testCount, 28, 28], tinyImages(testCount)));
  write(MNIST_FILES.testLabels.name, encodeIdx(IDX_LABELS_MAGIC, [testCount], labels(testCount)));
}
