// Augmentation throughput on one core (the JS thread), printed as one JSON line.
// Usage: node dist/bench/augment.js [--seconds S] [--batch-size N]
import { augmentBatch } from "../lib/training/augment";
import { Rng } from "../lib/shared/random";
import { MNIST_COLS, MNIST_IMAGE_BYTES, MNIST_ROWS, MNIST_TRAIN_IMAGES } from "../lib/data/data";

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function main(): void {
  const seconds = argValue("--seconds", 3);
  const batchSize = argValue("--batch-size", 86);
  const pool = 1024;
  // Digit-like inputs: a bright blob on black, so the interpolation reads real values.
  const images = new Float32Array(pool * MNIST_IMAGE_BYTES);
  const rng = new Rng(1);
  for (let i = 0; i < pool; i++) {
    const cy = 8 + rng.int(12);
    const cx = 8 + rng.int(12);
    for (let r = 0; r < MNIST_ROWS; r++)
      for (let c = 0; c < MNIST_COLS; c++) {
        const d2 = (r - cy) ** 2 + (c - cx) ** 2;
        images[i * MNIST_IMAGE_BYTES + r * MNIST_COLS + c] = d2 < 36 ? 1 - d2 / 36 : 0;
      }
  }
  const out = new Float32Array(batchSize * MNIST_IMAGE_BYTES);
  let checksum = 0;
  // Warm up the JIT before timing.
  for (let i = 0; i < 50; i++) augmentBatch(images.subarray(0, batchSize * MNIST_IMAGE_BYTES), batchSize, rng, {}, out);
  let done = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    const first = (done / batchSize) % Math.floor(pool / batchSize);
    augmentBatch(
      images.subarray(first * batchSize * MNIST_IMAGE_BYTES, (first + 1) * batchSize * MNIST_IMAGE_BYTES),
      batchSize,
      rng,
      {},
      out,
    );
    checksum += out[MNIST_IMAGE_BYTES / 2];
    done += batchSize;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const imagesPerSecond = done / elapsed;
  process.stdout.write(
    JSON.stringify({
      benchmark: "augment",
      batchSize,
      images: done,
      seconds: Number(elapsed.toFixed(3)),
      imagesPerSecond: Math.round(imagesPerSecond),
      secondsPerMnistEpoch: Number((MNIST_TRAIN_IMAGES / imagesPerSecond).toFixed(3)),
      checksum: Number(checksum.toFixed(3)),
    }) + "\n",
  );
}

main();
