// Time to load and verify all 70,000 MNIST images into tensors (issue target: ≤ 0.5 s warm).
// Run: npm run bench:data  — prints one JSON object on the last line.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, loadMnist, toImageTensor, toOneHotTensor } from "../lib";

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const backend = await initBackend();
  const timings: { loadMs: number; tensorMs: number; totalMs: number }[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const mnist = await loadMnist();
    const t1 = performance.now();
    const tensors = [
      toImageTensor(mnist.train.images), toImageTensor(mnist.test.images),
      toOneHotTensor(mnist.train.labels), toOneHotTensor(mnist.test.labels),
    ];
    const t2 = performance.now();
    tf.dispose(tensors);
    if (i > 0) timings.push({ loadMs: t1 - t0, tensorMs: t2 - t1, totalMs: t2 - t0 }); // run 0 warms the file cache and JIT
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    backend: backend.active,
    images: 70000,
    runs,
    loadAndVerifyMs: Math.round(median(timings.map((t) => t.loadMs))),
    toTensorsMs: Math.round(median(timings.map((t) => t.tensorMs))),
    totalWarmMs: Math.round(median(timings.map((t) => t.totalMs))),
    targetMs: 500,
  };
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
