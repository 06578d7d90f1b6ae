// The report's loss as its Keras 2.3.1 + TensorFlow computed it. Keras 2.3.1's TensorFlow backend hands
// `categorical_crossentropy` to tf.keras's backend, which looks at the op that made the output: when it is a
// Softmax, it takes the softmax's input (the logits) and calls softmax_cross_entropy_with_logits — no clipping
// ("to prevent collapsing zero when training"). Only other outputs are clipped to [1e-7, 1 − 1e-7] before the
// log, which is all tfjs does. The clip matters: a confidently wrong sample costs at most 16.118 and gets no
// gradient at all, where the logits give it its whole error back.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { invalidParameterError } from "../shared/errors";
import { SOFTMAX_CROSS_ENTROPY } from "../backend";

/**
 * `from-logits`: a softmax output's cross-entropy from its logits, as Keras 2.3.1 on TensorFlow ran it.
 * `clipped`: probabilities clipped to [1e-7, 1 − 1e-7] (tfjs's categoricalCrossentropy; Keras for non-softmax outputs).
 */
export type LossName = "from-logits" | "clipped";
export const LOSSES: readonly LossName[] = ["from-logits", "clipped"];

/** Keras's backend epsilon, used to clip probabilities before the log. */
export const KERAS_EPSILON = 1e-7;

/** Checks a loss name at run time too (a notebook may pass any string). */
export function checkLossName(name: unknown): LossName {
  if (!LOSSES.includes(name as LossName)) throw invalidParameterError("loss", LOSSES.map((l) => `"${l}"`).join(" or "), name);
  return name as LossName;
}

/** The logits behind each recorded softmax output (graph introspection, as tf.keras does with `output.op.inputs[0]`). */
const logitsOfOutput = new WeakMap<tf.Tensor, tf.Tensor>();
/** Recorded logits nobody has taken yet; each goes at the next turn of the event loop if still here. */
const untakenLogits = new Set<tf.Tensor>();
const RECORDING = Symbol("mnist-lab.recordsSoftmaxLogits");

interface ActivationLike {
  getClassName(): string;
  apply(x: tf.Tensor, axis?: number): tf.Tensor;
  [RECORDING]?: true;
}

/**
 * Makes every softmax activation of `model` (a Dense layer's or an Activation layer's, nested models included)
 * keep, for the tensor it outputs, the logits it was given; idempotent. What the model computes and its topology
 * do not change: only the loss and evaluation can now find the logits behind a softmax output.
 *
 * tfjs-layers computes a layer inside `tidy`, which would dispose the logits, so a differentiable clone is kept
 * outside it. The loss and evaluation take it in the same synchronous step that made it; one nobody took (a plain
 * `model.predict`) is disposed at the next turn of the event loop, so nothing leaks.
 */
export function recordSoftmaxLogits(model: tfl.LayersModel): void {
  for (const layer of model.layers) {
    const nested = layer as unknown as { layers?: unknown };
    if (Array.isArray(nested.layers)) recordSoftmaxLogits(layer as unknown as tfl.LayersModel);
    const activation = (layer as unknown as { activation?: ActivationLike }).activation;
    if (!activation || activation.getClassName() !== "softmax" || activation[RECORDING]) continue;
    const apply = activation.apply.bind(activation);
    activation.apply = (x: tf.Tensor, axis?: number) => {
      const probabilities = apply(x, axis);
      const logits = tf.keep(tf.clone(x));
      logitsOfOutput.set(probabilities, logits);
      untakenLogits.add(logits);
      setImmediate(() => {
        if (untakenLogits.delete(logits)) logits.dispose();
      });
      return probabilities;
    };
    activation[RECORDING] = true;
  }
}

/**
 * The logits behind a softmax output of a model prepared by {@link recordSoftmaxLogits}, handed to the caller,
 * who disposes them; undefined for any other output.
 */
export function takeSoftmaxLogits(output: tf.Tensor): tf.Tensor | undefined {
  const logits = logitsOfOutput.get(output);
  logitsOfOutput.delete(output);
  return logits && untakenLogits.delete(logits) ? logits : undefined;
}

/** Per-sample cross-entropy of clipped probabilities: tfjs's categoricalCrossentropy. */
function clippedCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const p = tf.clipByValue(tf.div(yPred, tf.sum(yPred, -1, true)), KERAS_EPSILON, 1 - KERAS_EPSILON);
    return tf.neg(tf.sum(tf.mul(yTrue, tf.log(p)), -1));
  });
}

/**
 * Per-sample cross-entropy of softmax(logits) against `labels`, unclipped, with the gradient softmax − labels
 * (TensorFlow's softmax_cross_entropy_with_logits). On the onednn backend one native pass computes the loss and
 * keeps the softmax, and one computes the gradient; elsewhere tfjs's softmaxCrossEntropy (about a dozen ops each
 * way) gives the same values.
 */
export function softmaxCrossEntropyWithLogits(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const backend = tf.getBackend();
  const fused =
    logits.rank === 2 &&
    logits.dtype === "float32" &&
    labels.dtype === "float32" &&
    tf.util.arraysEqual(labels.shape, logits.shape) &&
    tf.getKernel(SOFTMAX_CROSS_ENTROPY, backend) !== undefined;
  if (!fused) return tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0, tf.Reduction.NONE);
  const [loss, softmax] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits, labels }) as tf.Tensor[];
  // The tape keeps its own copy of the softmax for the gradient (registered with the kernel, lib/backend/gradients.ts).
  softmax.dispose();
  return loss;
}

/**
 * Keras 2.3.1's categorical cross-entropy under `loss`, per sample (tfjs-layers averages it). With `from-logits`
 * a recorded softmax output is scored from its logits ({@link softmaxCrossEntropyWithLogits}); an output without
 * logits falls back to the clipped form, as Keras does.
 */
export function kerasCategoricalCrossentropy(loss: LossName): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  checkLossName(loss);
  const lossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => {
    const logits = loss === "from-logits" ? takeSoftmaxLogits(yPred) : undefined;
    if (!logits) return clippedCrossentropy(yTrue, yPred);
    try {
      return softmaxCrossEntropyWithLogits(yTrue, logits);
    } finally {
      // Backprop needs only what softmaxCrossEntropy saved and the ops' records, not these values.
      logits.dispose();
    }
  };
  lossNames.set(lossFunction, loss);
  return lossFunction;
}

/** The loss each function made by {@link kerasCategoricalCrossentropy} computes. */
const lossNames = new WeakMap<object, LossName>();

/** The loss a model was compiled with when it came from {@link kerasCategoricalCrossentropy}, else undefined. */
export function compiledLossName(model: tfl.LayersModel): LossName | undefined {
  const loss = model.loss as unknown;
  return typeof loss === "function" ? lossNames.get(loss) : undefined;
}

/**
 * One sample's loss in float64 from its row of logits (`from-logits`) or of probabilities (clipped): evaluation's
 * counterpart of {@link kerasCategoricalCrossentropy}, so validation and 03_evaluate score like training.
 */
export function sampleCrossentropy(label: number, row: ArrayLike<number>, rowIsLogits: boolean): number {
  if (rowIsLogits) {
    let max = -Infinity;
    for (let c = 0; c < row.length; c++) max = Math.max(max, row[c]);
    let sum = 0;
    for (let c = 0; c < row.length; c++) sum += Math.exp(row[c] - max);
    return max + Math.log(sum) - row[label];
  }
  let sum = 0;
  for (let c = 0; c < row.length; c++) sum += row[c];
  // Keras renormalises the rows before clipping; softmax outputs already sum to ~1.
  const p = Math.min(1 - KERAS_EPSILON, Math.max(KERAS_EPSILON, row[label] / sum));
  return -Math.log(p);
}

/**
 * The test case, computed: one sample whose logit for a wrong class is `gap` above its true class's, scored
 * under `loss`, with the largest gradient its loss sends to the output layer's weights.
 */
export function confidentlyWrongSample(loss: LossName, gap = 30): { loss: number; gradient: number } {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 10, activation: "softmax", inputShape: [1], useBias: false })] });
  try {
    const kernel = new Float32Array(10);
    kernel[0] = gap;
    model.layers[0].setWeights([tf.tensor2d(kernel, [1, 10])]);
    recordSoftmaxLogits(model);
    const lossFn = kerasCategoricalCrossentropy(loss);
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.mean(
            lossFn(tf.cast(tf.oneHot(tf.tensor1d([1], "int32"), 10), "float32"), model.apply(tf.ones([1, 1])) as tf.Tensor),
          ) as tf.Scalar,
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      const gradient = Math.max(...Object.values(grads).map((g) => tf.max(tf.abs(g)).dataSync()[0]));
      return { loss: value.dataSync()[0], gradient };
    });
  } finally {
    model.dispose();
  }
}
