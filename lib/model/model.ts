import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { MnistLabError } from "../shared/errors";
import { checkLossName, kerasCategoricalCrossentropy, recordSoftmaxLogits, type LossName } from "./loss";

/** Knobs of the report's CNN; defaults are the report's values. */
export interface ReportCnnOptions {
  /** Filters of every conv layer (the report: 64). */
  filters?: number;
  /** Kernel sizes of the five conv layers (the report: 5, 5, 5, 3, 3). */
  kernelSizes?: [number, number, number, number, number];
  /** Padding of the five conv layers; see buildReportCnn for why conv 3–4 are 'valid' and conv 5 'same'. */
  paddings?: [Padding, Padding, Padding, Padding, Padding];
  /** Rate of the three dropout layers after the conv blocks (the report: 0.25). */
  convDropout?: number;
  /** Rate of the dropout before the output layer (the report: 0.25). */
  denseDropout?: number;
  /** Units of the hidden dense layer (the report: 256). */
  denseUnits?: number;
  /** Seed for the weight initializers, so a run is repeatable. */
  seed?: number;
}

export type Padding = "valid" | "same";

export const REPORT_CNN_DEFAULTS: Required<Omit<ReportCnnOptions, "seed">> = {
  filters: 64,
  kernelSizes: [5, 5, 5, 3, 3],
  paddings: ["valid", "valid", "valid", "valid", "same"],
  convDropout: 0.25,
  denseDropout: 0.25,
  denseUnits: 256,
};

/** Parameters of the report's CNN with default knobs (349,450 trainable + 640 BatchNorm moving statistics). */
export const REPORT_CNN_PARAMS = 350_090;

/**
 * A padding reading's short name: the first letters of conv 3–5's paddings (the report shows conv 1–2, both
 * 'valid'), e.g. `vvs` for the recipe's valid, valid, valid, valid, same.
 */
export function paddingReadingName(paddings: readonly Padding[]): string {
  return paddings
    .slice(2)
    .map((p) => p[0])
    .join("");
}

/** The paddings of conv 3–5 (the report shows conv 1–2: 'valid'); the image must not vanish before the dense layer. */
export type PaddingReading = [Padding, Padding, Padding];

/** Side of the square a conv of kernel `k` leaves from `size` under `padding`. */
function convOut(size: number, k: number, padding: Padding): number {
  return padding === "same" ? size : size - k + 1;
}

/**
 * Every reading of the report's padding that its text allows, with its flattened feature size: conv 1–2 'valid'
 * (shown), conv 3–5 (5×5, 3×3, 3×3) each 'valid' or 'same' as long as an image is left for the last conv.
 */
export function paddingReadings(filters = 64): Array<{ reading: PaddingReading; name: string; features: number }> {
  const readings: Array<{ reading: PaddingReading; name: string; features: number }> = [];
  const options: Padding[] = ["same", "valid"];
  for (const p3 of options)
    for (const p4 of options)
      for (const p5 of options) {
        const afterBlock1 = Math.floor(convOut(convOut(28, 5, "valid"), 5, "valid") / 2);
        const afterBlock2 = Math.floor(convOut(convOut(afterBlock1, 5, p3), 3, p4) / 2);
        const last = convOut(afterBlock2, 3, p5);
        if (afterBlock2 < 1 || last < 1) continue;
        const reading: PaddingReading = [p3, p4, p5];
        readings.push({ reading, name: reading.map((p) => p[0]).join(""), features: last * last * filters });
      }
  return readings;
}

/**
 * The five paddings of a reading's name (`vvs` → valid, valid, valid, valid, same); throws naming the readings that
 * leave an image for the last conv when `name` is not one of them.
 */
export function paddingsOfReading(name: string): [Padding, Padding, Padding, Padding, Padding] {
  const found = paddingReadings().find((r) => r.name === name);
  if (!found) {
    const names = paddingReadings().map((r) => r.name);
    throw new MnistLabError(`Expected a padding reading of conv 3–5, one of ${names.join(", ")}, but found ${JSON.stringify(name)}`);
  }
  return ["valid", "valid", ...found.reading];
}

/** The recipe's padding reading, `vvs`. */
export const REPORT_PADDING_READING = paddingReadingName(REPORT_CNN_DEFAULTS.paddings);

/**
 * Builds the report's CNN (uncompiled):
 * [conv → relu → BN, conv → relu → BN, max-pool, dropout] ×2 → conv → relu → BN → dropout → flatten → dense 256 relu
 * → dropout → dense 10 softmax.
 *
 * The report lists five conv layers and shows the first two without padding (28 → 24 → 20, pool → 10). Seven
 * readings of conv 3–5 fit its text (forensic_studies.ts lists them); the recipe's is the one whose runs lie closest
 * to the report's logged epochs in the padding confirmation (06_forensics): conv 3–4 'valid' (10 → 6 → 4, pool → 2)
 * and the 3×3 fifth conv 'same' (2 → 2), as 'valid' would leave it no input. That gives 2×2×64 = 256 features
 * before the dense layer and 350,090 parameters.
 *
 * @example
 * const model = buildReportCnn();
 * model.countParams(); // 350090
 */
export function buildReportCnn(options: ReportCnnOptions = {}): tfl.Sequential {
  const o = { ...REPORT_CNN_DEFAULTS, ...options };
  let seed = options.seed;
  // Keras's default kernel initializer (tfjs's own is glorotNormal); each gets its own seed, numbered in layer order,
  // so layers differ but the whole model is repeatable (loadNotebookModel numbers a saved topology the same way).
  const init = () => tfl.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed++ });
  const conv = (i: number, inputShape?: [number, number, number]) =>
    tfl.layers.conv2d({
      filters: o.filters,
      kernelSize: o.kernelSizes[i],
      padding: o.paddings[i],
      activation: "relu",
      kernelInitializer: init(),
      name: `conv2d_${i + 1}`,
      ...(inputShape ? { inputShape } : {}),
    });
  const bn = (i: number) => tfl.layers.batchNormalization({ name: `batch_norm_${i + 1}` });
  const model = tfl.sequential({ name: "report_cnn" });
  model.add(conv(0, [28, 28, 1]));
  model.add(bn(0));
  model.add(conv(1));
  model.add(bn(1));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: "max_pool_1" }));
  model.add(tfl.layers.dropout({ rate: o.convDropout, name: "dropout_1" }));
  model.add(conv(2));
  model.add(bn(2));
  model.add(conv(3));
  model.add(bn(3));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: "max_pool_2" }));
  model.add(tfl.layers.dropout({ rate: o.convDropout, name: "dropout_2" }));
  model.add(conv(4));
  model.add(bn(4));
  model.add(tfl.layers.dropout({ rate: o.convDropout, name: "dropout_3" }));
  model.add(tfl.layers.flatten({ name: "flatten" }));
  model.add(tfl.layers.dense({ units: o.denseUnits, activation: "relu", kernelInitializer: init(), name: "dense_1" }));
  model.add(tfl.layers.dropout({ rate: o.denseDropout, name: "dropout_4" }));
  model.add(tfl.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(), name: "dense_2" }));
  return model;
}

/**
 * Compiles a model as the report does: categorical cross-entropy as Keras 2.3.1 on TensorFlow computed it (from the
 * softmax's logits by default; see lib/model/loss.ts), accuracy.
 */
export function compileReportCnn(model: tfl.LayersModel, optimizer: tf.Optimizer, loss: LossName = "from-logits"): void {
  if (checkLossName(loss) === "from-logits") recordSoftmaxLogits(model);
  model.compile({ optimizer, loss: kerasCategoricalCrossentropy(loss), metrics: ["accuracy"] });
}

/**
 * Inference of a Sequential model one layer at a time, disposing each activation as soon as the next
 * layer has used it. `model.predict` keeps every layer's output of the batch alive until it returns; this keeps
 * at most two.
 * Other models go through `model.predict`. The caller disposes the result; `x` stays the caller's.
 */
export function predictLean(model: tfl.LayersModel, x: tf.Tensor): tf.Tensor {
  if (!(model instanceof tfl.Sequential)) return model.predict(x) as tf.Tensor;
  let current = x;
  for (const layer of model.layers) {
    // A Sequential built with an explicit tfl.layers.inputLayer lists it; it takes no input to apply.
    if (layer.getClassName() === "InputLayer") continue;
    const next = layer.apply(current, { training: false }) as tf.Tensor;
    if (current !== x) current.dispose();
    current = next;
  }
  return current;
}

/** One layer's shape of the architecture: class, output shape, parameters and the settings that define it. */
function layerSignature(layer: tfl.layers.Layer): string {
  const c = layer.getConfig() as Record<string, unknown>;
  const keys = ["filters", "kernelSize", "strides", "padding", "activation", "poolSize", "rate", "units", "momentum", "epsilon"];
  const settings = keys.filter((k) => c[k] !== undefined).map((k) => `${k}=${JSON.stringify(c[k])}`);
  return `${layer.getClassName()} ${JSON.stringify(layer.outputShape)} ${layer.countParams()} ${settings.join(" ")}`;
}

/**
 * Compares two models layer by layer (class, output shape, parameter count, filters, kernel, padding, activation,
 * pooling, dropout rate, units, BatchNorm momentum and ε), ignoring names and initial weights.
 * @returns `differences` lists each layer that differs, e.g. `layer 6: Dropout [null,10,10,64] 0 rate=0.5 vs … rate=0.25`
 */
export function compareArchitectures(
  a: tfl.LayersModel,
  b: tfl.LayersModel,
): { same: boolean; differences: string[]; parameters: [number, number] } {
  const differences: string[] = [];
  const n = Math.max(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) {
    const x = a.layers[i] ? layerSignature(a.layers[i]) : "(none)";
    const y = b.layers[i] ? layerSignature(b.layers[i]) : "(none)";
    if (x !== y) differences.push(`layer ${i + 1}: ${x} vs ${y}`);
  }
  return { same: differences.length === 0, differences, parameters: [a.countParams(), b.countParams()] };
}

/** Checks that `model` maps [null, 28, 28, 1] images to [null, 10] class probabilities, as every MNIST run needs. */
export function checkMnistModel(model: tfl.LayersModel): void {
  const input = model.inputs?.[0]?.shape;
  const output = model.outputs?.[0]?.shape;
  const ok =
    input &&
    output &&
    input.length === 4 &&
    input[1] === 28 &&
    input[2] === 28 &&
    input[3] === 1 &&
    output.length === 2 &&
    output[1] === 10;
  if (!ok) {
    throw new MnistLabError(
      "Expected a model taking [null, 28, 28, 1] images and giving [null, 10] class probabilities but found " +
        `input ${JSON.stringify(input ?? null)} and output ${JSON.stringify(output ?? null)}`,
    );
  }
  // Accuracy, the loss and every figure read the output as probabilities: a softmax must make it.
  const last = model.layers[model.layers.length - 1] as unknown as { activation?: { getClassName(): string } };
  const activation = last.activation?.getClassName() ?? "none";
  if (activation !== "softmax") {
    throw new MnistLabError(`Expected the model's last layer to end in a softmax (class probabilities) but found activation ${activation}`);
  }
}

/**
 * SHA-256 of a model's topology with its model and layer names replaced by their positions: tfjs numbers
 * auto-named layers per process (`conv2d_Conv2D7`), so the same model built twice must hash the same.
 */
export function topologySha256(model: tfl.LayersModel): string {
  const names = [model.name, ...model.layers.map((l) => l.name)];
  let json = JSON.stringify(model.toJSON(null, false));
  names.forEach((name, i) => {
    json = json.split(JSON.stringify(name)).join(JSON.stringify(`#${i}`));
  });
  return createHash("sha256").update(json).digest("hex");
}
