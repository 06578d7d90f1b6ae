// One training step of a run: gather a batch in the epoch's order, augment it, draw the dropout masks, train.
// The fit loop and a head start (steps before the logged epochs) share it, so both consume the run's Rng alike.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { gatherBatch, type LabelledImages } from "../data/preprocess";
import { MNIST_IMAGE_BYTES, MNIST_NUM_CLASSES } from "../data/data";
import type { Rng } from "../shared/random";
import { augmentBatch } from "./augment";
import { trainBatch } from "./fused_step";
import type { TrainConfig } from "./runs";

interface DropoutWithSeed {
  seed?: number;
}

/**
 * tfjs dropout draws its mask from `seed` when set — the same mask every call — or from Math.random.
 * Giving each dropout layer a fresh seed from the run's Rng before every batch makes the masks
 * vary per batch yet repeat exactly for the same run seed (and after a resume).
 */
export function reseedDropout(model: tfl.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === "Dropout") (layer as unknown as DropoutWithSeed).seed = rng.nextUint32() || 1;
  }
}

/** Trains batches of one split with reused buffers; `step` returns the batch's size, mean loss and accuracy. */
export class BatchStepper {
  private readonly x: Float32Array;
  private readonly augmented: Float32Array;
  private readonly y: Float32Array;
  readonly batchesPerEpoch: number;

  constructor(
    private readonly split: LabelledImages,
    readonly count: number,
    private readonly config: Pick<TrainConfig, "batchSize" | "augment" | "augmentation">,
  ) {
    this.x = new Float32Array(config.batchSize * MNIST_IMAGE_BYTES);
    this.augmented = new Float32Array(config.batchSize * MNIST_IMAGE_BYTES);
    this.y = new Float32Array(config.batchSize * MNIST_NUM_CLASSES);
    this.batchesPerEpoch = Math.ceil(count / config.batchSize);
  }

  /** Batch `b` of the epoch whose image order is `order`. */
  async step(
    model: tfl.LayersModel,
    order: ArrayLike<number>,
    b: number,
    rng: Rng,
  ): Promise<{ n: number; loss: number; accuracy: number }> {
    const from = b * this.config.batchSize;
    const n = Math.min(this.config.batchSize, this.count - from);
    gatherBatch(this.split, order, from, n, this.x, this.y);
    const input = this.config.augment ? augmentBatch(this.x, n, rng, this.config.augmentation, this.augmented) : this.x;
    reseedDropout(model, rng);
    const xs = tf.tensor4d(input.subarray(0, n * MNIST_IMAGE_BYTES), [n, 28, 28, 1]);
    const ys = tf.tensor2d(this.y.subarray(0, n * MNIST_NUM_CLASSES), [n, MNIST_NUM_CLASSES]);
    try {
      return { n, ...(await trainBatch(model, xs, ys)) };
    } finally {
      tf.dispose([xs, ys]);
    }
  }
}
