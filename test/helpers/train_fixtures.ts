import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Rng, trainRun, type TrainConfigInput, type TrainRunOptions } from "mnist-lab";

/** Switches tfjs to the pure-JS cpu backend (what the tests train on). */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

/**
 * A learnable synthetic MNIST-like split: class k is a bright 3-pixel-thick horizontal bar at row 3 + 2k,
 * with seeded noise, so a tiny CNN can beat chance within a few batches.
 */
export function syntheticDigits(count: number, seed: number): { images: Uint8Array; labels: Uint8Array; count: number } {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    for (let p = 0; p < 784; p++) {
      const r = Math.floor(p / 28);
      const c = p % 28;
      const onBar = r >= 3 + 2 * label && r < 6 + 2 * label && c >= 4 && c < 24;
      images[i * 784 + p] = onBar ? 200 + rng.int(56) : rng.int(30);
    }
  }
  return { images, labels, count };
}

/** Tiny knobs for the report's CNN so the cpu backend trains in well under a second per batch. */
export const TINY_MODEL = { filters: 2, denseUnits: 8 };

const tempDirs: string[] = [];

/** A fresh temporary directory; all of them go when the test process exits (one exit listener in all). */
export function tempDir(prefix = "mnist-lab-train-"): string {
  if (tempDirs.length === 0) process.on("exit", () => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/**
 * Trains `config` and stops it right after epoch `epoch`'s checkpoint by throwing from `onEpoch`, as a session
 * killed between epochs would; fails unless the run ends with that very error.
 */
export async function trainStoppedAfterEpoch(epoch: number, config: TrainConfigInput, options: TrainRunOptions): Promise<void> {
  const stop = new Error(`stopped after epoch ${epoch}`);
  const onEpoch = (e: { epoch: number }) => {
    if (e.epoch === epoch) throw stop;
  };
  await assert.rejects(trainRun(config, { ...options, onEpoch }), (err) => err === stop);
}
