// Time to load and verify all 70,000 MNIST images and turn them into the report's four tensors, as 00_data's
// cells do (loadMnist, then toImageTensor and toOneHotTensor per split).
// Run: npm run bench:data [runs]  — prints one JSON object on the last line, with the CPU it ran on.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, loadMnist, machineInfo, toImageTensor, toOneHotTensor } from "../lib";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`Expected a whole number of runs ≥ 1 but found ${process.argv[2]}`);
  const backend = await initBackend();
  const times: { loadMs: number; tensorMs: number }[] = [];
  for (let i = 0; i <= runs; i++) {
    // Run 0 warms the file cache and the JIT.
    const t0 = performance.now();
    const mnist = await loadMnist();
    const t1 = performance.now();
    const tensors = [
      toImageTensor(mnist.train.images),
      toImageTensor(mnist.test.images),
      toOneHotTensor(mnist.train.labels),
      toOneHotTensor(mnist.test.labels),
    ];
    if (i > 0) times.push({ loadMs: t1 - t0, tensorMs: performance.now() - t1 });
    tf.dispose(tensors);
  }
  const result = {
    backend: backend.active,
    images: 70000,
    runs,
    machine: machineInfo(),
    loadAndVerifyMs: Math.round(median(times.map((t) => t.loadMs))),
    toTensorsMs: Math.round(median(times.map((t) => t.tensorMs))),
    totalMs: Math.round(median(times.map((t) => t.loadMs + t.tensorMs))),
  };
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
