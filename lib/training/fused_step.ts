// The training step of the report's kind of CNN with its backward pass written out, so that everything around the
// convolutions runs fused and native on onednn: a conv's ReLU and the BatchNorm after it in two passes each way
// (the conv bias's gradient included), dropout in one pass, softmax cross-entropy from the logits in one. tfjs-layers'
// trainOnBatch builds the same step from its autodiff tape, some four hundred kernels; this runs about seventy. Any
// other model, loss, optimizer or backend takes trainOnBatch, which stays the reference the tests hold this step to.
import * as tf from "@tensorflow/tfjs-core";
import { Conv2DBackpropFilter, Conv2DBackpropInput, MaxPoolGrad } from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  BATCH_NORM_RELU_GRAD,
  BATCH_NORM_RELU_TRAIN,
  DROPOUT,
  ONEDNN_BACKEND_NAME,
  RELU_GRAD,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
} from "../backend";
import { compiledLossName } from "../model/loss";

/** A batch's mean loss and accuracy, as trainOnBatch returns them. */
export interface StepOutcome {
  loss: number;
  accuracy: number;
}

/** A dropout layer's multiplier for `x` (0 or 1/(1 − rate) per element); the fused step's own comes from its seed natively. */
export type DropoutMultiplier = (layer: tfl.layers.Layer, x: tf.Tensor) => tf.Tensor;

type LayerVariable = tfl.LayerVariable;
type Padding = "valid" | "same";

/** One stage of the step: its forward pass keeps what its backward pass needs; the backward pass adds its gradients. */
interface Stage {
  forward(x: tf.Tensor, options: StepOptions): tf.Tensor;
  /** dx, or null when nothing upstream needs it (the first stage). */
  backward(dy: tf.Tensor, grads: Map<LayerVariable, tf.Tensor>, needDx: boolean): tf.Tensor | null;
}

interface StepOptions {
  dropoutMultiplier?: DropoutMultiplier;
}

/** A layer's weight whose name ends in `/suffix` (tfjs-layers names them `<layer>/kernel`, `<layer>/gamma`, …). */
function weight(layer: tfl.layers.Layer, suffix: string): LayerVariable {
  const found = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
  if (!found) throw new Error(`layer ${layer.name} has no ${suffix}`);
  return found;
}

const config = (layer: tfl.layers.Layer) => layer.getConfig() as Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v), Number(v)]);
const activationOf = (layer: tfl.layers.Layer) => String(config(layer).activation ?? "linear");

/**
 * Conv2D (ReLU) then BatchNormalization, and the 2×2 max-pool after them when there is one: the conv with its bias,
 * then ReLU, BatchNorm (and the pool) in one native kernel each way.
 */
class ConvReluBatchNorm implements Stage {
  private readonly kernel: LayerVariable;
  private readonly bias: LayerVariable;
  private readonly gamma: LayerVariable;
  private readonly beta: LayerVariable;
  private readonly movingMean: LayerVariable;
  private readonly movingVariance: LayerVariable;
  private readonly pad: Padding;
  private readonly epsilon: number;
  private readonly momentum: number;
  private saved: { x: tf.Tensor4D; z: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor; at?: tf.Tensor } | null = null;

  constructor(
    conv: tfl.layers.Layer,
    bn: tfl.layers.Layer,
    private readonly pool: boolean,
  ) {
    this.kernel = weight(conv, "kernel");
    this.bias = weight(conv, "bias");
    this.gamma = weight(bn, "gamma");
    this.beta = weight(bn, "beta");
    this.movingMean = weight(bn, "moving_mean");
    this.movingVariance = weight(bn, "moving_variance");
    this.pad = config(conv).padding as Padding;
    this.epsilon = Number(config(bn).epsilon);
    this.momentum = Number(config(bn).momentum);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    const z = tf.fused.conv2d({ x: x4, filter: this.kernel.read() as tf.Tensor4D, strides: 1, pad: this.pad, bias: this.bias.read() });
    const inputs = {
      z,
      gamma: this.gamma.read(),
      beta: this.beta.read(),
      movingMean: this.movingMean.read(),
      movingVariance: this.movingVariance.read(),
    };
    const attrs = { varianceEpsilon: this.epsilon, momentum: this.momentum, pool: this.pool };
    const [y, mean, variance, movingMean, movingVariance, at] = tf
      .engine()
      .runKernel(BATCH_NORM_RELU_TRAIN, inputs, attrs as never) as tf.Tensor[];
    this.movingMean.write(movingMean);
    this.movingVariance.write(movingVariance);
    this.saved = { x: x4, z, mean, variance, at };
    return y;
  }

  backward(dy: tf.Tensor, grads: Map<LayerVariable, tf.Tensor>, needDx: boolean): tf.Tensor | null {
    const { x, z, mean, variance, at } = this.saved!;
    this.saved = null;
    const inputs = { dy, z, mean, variance, gamma: this.gamma.read(), ...(at ? { at } : {}) };
    const attrs = { varianceEpsilon: this.epsilon, pool: this.pool };
    const [dz, dGamma, dBeta, dBias] = tf.engine().runKernel(BATCH_NORM_RELU_GRAD, inputs, attrs as never) as tf.Tensor[];
    const filter = this.kernel.read();
    const geometry = { strides: [1, 1], pad: this.pad, dataFormat: "NHWC", dimRoundingMode: undefined };
    const dW = tf.engine().runKernel(Conv2DBackpropFilter, { x, dy: dz }, { ...geometry, filterShape: filter.shape } as never) as tf.Tensor;
    grads.set(this.kernel, dW).set(this.bias, dBias).set(this.gamma, dGamma).set(this.beta, dBeta);
    if (!needDx) return null;
    return tf.engine().runKernel(Conv2DBackpropInput, { dy: dz, filter }, { ...geometry, inputShape: x.shape } as never) as tf.Tensor;
  }
}

class MaxPool implements Stage {
  private readonly size: [number, number];
  private readonly strides: [number, number];
  private readonly pad: Padding;
  private saved: { x: tf.Tensor; y: tf.Tensor } | null = null;

  constructor(layer: tfl.layers.Layer) {
    const c = config(layer);
    this.size = pair(c.poolSize);
    this.strides = pair(c.strides ?? c.poolSize);
    this.pad = c.padding as Padding;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const y = tf.maxPool(x as tf.Tensor4D, this.size, this.strides, this.pad);
    this.saved = { x, y };
    return y;
  }

  backward(dy: tf.Tensor): tf.Tensor {
    const { x, y } = this.saved!;
    this.saved = null;
    const attrs = { filterSize: this.size, strides: this.strides, pad: this.pad, dimRoundingMode: undefined };
    return tf.engine().runKernel(MaxPoolGrad, { dy, input: x, output: y }, attrs as never) as tf.Tensor;
  }
}

interface SeededLayer {
  seed?: number;
}

class Dropout implements Stage {
  private readonly rate: number;
  private multiplier: tf.Tensor | null = null;

  constructor(private readonly layer: tfl.layers.Layer) {
    this.rate = Number(config(layer).rate);
  }

  forward(x: tf.Tensor, options: StepOptions): tf.Tensor {
    if (this.rate === 0) return x;
    if (options.dropoutMultiplier) {
      this.multiplier = options.dropoutMultiplier(this.layer, x);
      return tf.mul(x, this.multiplier);
    }
    // reseedDropout gives every dropout layer a seed from the run's Rng before each batch.
    const seed = (this.layer as unknown as SeededLayer).seed ?? Math.floor(Math.random() * 2 ** 32);
    const [y, multiplier] = tf.engine().runKernel(DROPOUT, { x }, { rate: this.rate, seed: seed >>> 0 } as never) as tf.Tensor[];
    this.multiplier = multiplier;
    return y;
  }

  backward(dy: tf.Tensor): tf.Tensor {
    if (this.rate === 0) return dy;
    const dx = tf.mul(dy, this.multiplier!);
    this.multiplier = null;
    return dx;
  }
}

class Flatten implements Stage {
  private shape: number[] = [];

  forward(x: tf.Tensor): tf.Tensor {
    this.shape = x.shape;
    return tf.reshape(x, [x.shape[0], -1]);
  }

  backward(dy: tf.Tensor): tf.Tensor {
    return tf.reshape(dy, this.shape);
  }
}

/** A hidden Dense layer (ReLU or linear): one fused matMul forward, three products back. */
class Dense implements Stage {
  private readonly kernel: LayerVariable;
  private readonly bias: LayerVariable;
  private readonly relu: boolean;
  protected saved: { x: tf.Tensor2D; y: tf.Tensor } | null = null;

  constructor(layer: tfl.layers.Layer) {
    this.kernel = weight(layer, "kernel");
    this.bias = weight(layer, "bias");
    this.relu = activationOf(layer) === "relu";
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x2 = x as tf.Tensor2D;
    const y = tf.fused.matMul({
      a: x2,
      b: this.kernel.read() as tf.Tensor2D,
      bias: this.bias.read(),
      activation: this.relu ? "relu" : "linear",
    });
    this.saved = { x: x2, y };
    return y;
  }

  backward(dy: tf.Tensor, grads: Map<LayerVariable, tf.Tensor>, needDx: boolean): tf.Tensor | null {
    const { x, y } = this.saved!;
    this.saved = null;
    const dPre = (this.relu ? tf.engine().runKernel(RELU_GRAD, { dy, x: y }) : dy) as tf.Tensor2D;
    grads.set(this.kernel, tf.matMul(x, dPre, true, false)).set(this.bias, tf.sum(dPre, 0));
    return needDx ? tf.matMul(dPre, this.kernel.read() as tf.Tensor2D, false, true) : null;
  }
}

/** Why `model` cannot take the fused step (null when it can): one line, for bench output and tests. */
function unsupported(model: tfl.LayersModel): string | null {
  if (tf.getBackend() !== ONEDNN_BACKEND_NAME) return `the ${tf.getBackend()} backend is active (the fused step is onednn's)`;
  if (!(model instanceof tfl.Sequential)) return "the model is not Sequential";
  if (!model.optimizer) return "the model is not compiled";
  if (compiledLossName(model) !== "from-logits") return "the loss is not the from-logits cross-entropy of compileReportCnn";
  const layers = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  const last = layers[layers.length - 1];
  if (!last || last.getClassName() !== "Dense" || activationOf(last) !== "softmax") return "the last layer is not a softmax Dense";
  for (const [i, layer] of layers.entries()) {
    const c = config(layer);
    const kind = layer.getClassName();
    if (!layer.trainable && layer.trainableWeights.length + layer.nonTrainableWeights.length > 0) return `layer ${layer.name} is frozen`;
    if (c.kernelRegularizer || c.biasRegularizer || c.activityRegularizer || c.kernelConstraint || c.biasConstraint)
      return `layer ${layer.name} has a regularizer or constraint`;
    if (kind === "Conv2D") {
      const plain = pair(c.strides).every((s) => s === 1) && pair(c.dilationRate ?? 1).every((d) => d === 1);
      const next = layers[i + 1];
      const bn = next && next.getClassName() === "BatchNormalization" ? config(next) : null;
      if (activationOf(layer) !== "relu" || !c.useBias || !plain || c.dataFormat !== "channelsLast")
        return `layer ${layer.name} is not a stride-1 channels-last Conv2D with bias and ReLU`;
      if (!bn || !(bn.axis === -1 || bn.axis === 3) || !bn.center || !bn.scale || !next.trainable)
        return `layer ${layer.name} is not followed by a trainable BatchNormalization over its channels`;
    } else if (kind === "BatchNormalization") {
      if (layers[i - 1]?.getClassName() !== "Conv2D") return `layer ${layer.name} does not follow a Conv2D`;
    } else if (kind === "MaxPooling2D") {
      if (c.dataFormat !== "channelsLast") return `layer ${layer.name} is not channels-last`;
    } else if (kind === "Dropout") {
      if (c.noiseShape != null) return `layer ${layer.name} has a noise shape`;
    } else if (kind === "Dense") {
      if (!c.useBias || (layer !== last && !["relu", "linear"].includes(activationOf(layer))))
        return `layer ${layer.name} is not a Dense with bias and ReLU or no activation`;
      const inputShape = (layer as unknown as { input?: { shape?: unknown[] } }).input?.shape;
      if (inputShape?.length !== 2) return `layer ${layer.name} is a Dense on a rank-${inputShape?.length ?? "?"} input`;
    } else if (kind !== "Flatten") return `layer ${layer.name} is a ${kind}`;
  }
  return null;
}

/** Whether `layer` is a 2×2, stride-2, 'valid' max-pool, which the BatchNorm kernels before it can take in. */
function isPlainPool2(layer: tfl.layers.Layer | undefined): boolean {
  if (layer?.getClassName() !== "MaxPooling2D") return false;
  const c = config(layer);
  return [...pair(c.poolSize), ...pair(c.strides ?? c.poolSize)].every((v) => v === 2) && c.padding === "valid";
}

/** The stages of a model `unsupported` accepted, and its last Dense layer, whose softmax goes into the loss. */
function stagesOf(model: tfl.LayersModel): { stages: Stage[]; output: Dense } {
  const layers = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  const stages: Stage[] = [];
  for (let i = 0; i < layers.length - 1; i++) {
    const layer = layers[i];
    switch (layer.getClassName()) {
      case "Conv2D": {
        const pool = isPlainPool2(layers[i + 2]);
        stages.push(new ConvReluBatchNorm(layer, layers[i + 1], pool));
        i += pool ? 2 : 1;
        break;
      }
      case "MaxPooling2D":
        stages.push(new MaxPool(layer));
        break;
      case "Dropout":
        stages.push(new Dropout(layer));
        break;
      case "Flatten":
        stages.push(new Flatten());
        break;
      default:
        stages.push(new Dense(layer));
    }
  }
  return { stages, output: new Dense(layers[layers.length - 1]) };
}

/** Fused steps by model, rebuilt when the model is compiled with another optimizer (its slots are bound to it). */
const fusedSteps = new WeakMap<tfl.LayersModel, { optimizer: tf.Optimizer; step: FusedStep }>();

/** The fused training step of one compiled model. */
export class FusedStep {
  private readonly stages: Stage[];
  private readonly output: Dense;

  constructor(private readonly model: tfl.LayersModel) {
    const reason = unsupported(model);
    if (reason) throw new Error(`Expected a model the fused step supports but found that ${reason}`);
    ({ stages: this.stages, output: this.output } = stagesOf(model));
  }

  /** One step on a batch: forward, backward, the optimizer's update; BatchNorm's moving statistics as tfjs-layers keeps them. */
  run(xs: tf.Tensor, ys: tf.Tensor, options: StepOptions = {}): StepOutcome {
    let outcome: StepOutcome = { loss: NaN, accuracy: NaN };
    tf.tidy(() => {
      let x = xs;
      for (const stage of this.stages) x = stage.forward(x, options);
      const logits = this.output.forward(x);
      const [perSample, softmax] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits, labels: ys }) as tf.Tensor[];
      const n = xs.shape[0];
      outcome = { loss: tf.mean(perSample).dataSync()[0], accuracy: accuracy(softmax.dataSync(), ys.dataSync(), n) };
      // The mean's gradient, 1/n per sample, then softmax − labels.
      const dy = tf.fill([n], 1 / n);
      const grads = new Map<LayerVariable, tf.Tensor>();
      let d = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { dy, softmax, labels: ys }) as tf.Tensor;
      d = this.output.backward(d, grads, this.stages.length > 0)!;
      for (let i = this.stages.length - 1; i >= 0; i--) {
        const dx = this.stages[i].backward(d, grads, i > 0);
        if (dx) d = dx;
      }
      // In the model's order of trainable weights, as trainOnBatch hands them over (optimizer slots are bound by it).
      const named: tf.NamedTensorMap = {};
      for (const w of this.model.trainableWeights) named[(w.read() as tf.Variable).name] = grads.get(w)!;
      this.model.optimizer.applyGradients(named);
    });
    return outcome;
  }
}

/** tfjs-layers' categorical accuracy: the share of rows whose largest prediction (first, on ties) is the label's. */
function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>, n: number): number {
  const classes = predicted.length / n;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let p = 0,
      t = 0;
    for (let c = 1; c < classes; c++) {
      if (predicted[i * classes + c] > predicted[i * classes + p]) p = c;
      if (labels[i * classes + c] > labels[i * classes + t]) t = c;
    }
    if (p === t) correct++;
  }
  return Math.fround(correct / n);
}

/** How `model` trains a batch here: "fused" or why it takes tfjs-layers' trainOnBatch. */
export function trainingStepKind(model: tfl.LayersModel): string {
  const reason = unsupported(model);
  return reason ? `tfjs-layers trainOnBatch (${reason})` : "fused";
}

/**
 * Trains one batch: the fused step where the model, loss and backend allow it (checked every batch: a layer frozen or a
 * model compiled again between batches is seen), else tfjs-layers' trainOnBatch.
 */
export async function trainBatch(model: tfl.LayersModel, xs: tf.Tensor, ys: tf.Tensor): Promise<StepOutcome> {
  if (unsupported(model) === null) {
    let entry = fusedSteps.get(model);
    if (!entry || entry.optimizer !== model.optimizer) {
      entry = { optimizer: model.optimizer, step: new FusedStep(model) };
      fusedSteps.set(model, entry);
    }
    return entry.step.run(xs, ys);
  }
  const [loss, accuracyValue] = (await model.trainOnBatch(xs, ys)) as number[];
  return { loss, accuracy: accuracyValue };
}
