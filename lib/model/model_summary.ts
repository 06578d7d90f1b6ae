import type * as tfl from "@tensorflow/tfjs-layers";
import pl from "nodejs-polars";

/** `5×5` for a kernel or window size given as one number or as [height, width]. */
function sizeText(size: unknown): string {
  const [h, w] = Array.isArray(size) ? size : [size, size];
  return `${h}×${w}`;
}

/** `24×24×64` for a layer's shape without its batch dimension. */
function shapeText(shape: unknown): string {
  const dims = (Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
  return dims.slice(1).join("×");
}

function percentText(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

/**
 * What a layer does, in the report's words (模型结构) and with its own settings, read from the built layer's config
 * and shapes: an edited model is described as it is, never as the report's CNN.
 */
export function describeLayer(layer: tfl.layers.Layer): string {
  const config = layer.getConfig() as Record<string, unknown>;
  const input = layer.input;
  const from = shapeText(Array.isArray(input) ? input[0].shape : input.shape);
  const to = shapeText(layer.outputShape);
  switch (layer.getClassName()) {
    case "Conv2D": {
      const activation = String(config.activation);
      const why =
        activation === "relu" ? "relu keeps training fast, adds non-linearity and avoids vanishing gradients" : `${activation} activation`;
      const slide = `${config.filters} filters of ${sizeText(config.kernelSize)} slide over the image`;
      return `${slide} ('${config.padding}': ${from} → ${to}); ${why}`;
    }
    case "BatchNormalization":
      return (
        "normalises each channel: guards against exploding or vanishing gradients " +
        "and makes training robust to the learning rate and initialisation"
      );
    case "MaxPooling2D": {
      const stride = sizeText(config.strides).split("×")[0];
      return `keeps the largest value of each ${sizeText(config.poolSize)} window (stride ${stride}): ${from} → ${to}`;
    }
    case "Dropout": {
      const rate = Number(config.rate);
      return rate === 0
        ? "drops nothing (rate 0): passes the activations on unchanged"
        : `drops ${percentText(rate)} of the activations while training, against overfitting`;
    }
    case "Flatten":
      return `turns the ${from} feature maps into one vector of ${to}`;
    case "Dense": {
      const units = Number(config.units);
      const activation = String(config.activation);
      if (activation === "softmax")
        return `${units} softmax outputs that form a probability distribution over the ${units === 10 ? "digits" : "classes"}`;
      return `fully connected: ${units} ${activation} units`;
    }
    default:
      return "";
  }
}

export interface LayerRow {
  layer: string;
  type: string;
  outputShape: string;
  params: number;
  role: string;
}

/** One row per layer, like Keras's model.summary(), with what the layer does. */
export function modelSummaryRows(model: tfl.LayersModel): LayerRow[] {
  return model.layers.map((layer) => {
    const shape = layer.outputShape as (number | null)[];
    return {
      layer: layer.name,
      type: layer.getClassName(),
      outputShape: `(${shape.map((d) => (d === null ? "None" : String(d))).join(", ")})`,
      params: layer.countParams(),
      role: describeLayer(layer),
    };
  });
}

/** modelSummaryRows as a polars DataFrame, for notebooks. */
export function modelSummaryFrame(model: tfl.LayersModel): pl.DataFrame {
  const rows = modelSummaryRows(model);
  return pl.DataFrame({
    layer: rows.map((r) => r.layer),
    type: rows.map((r) => r.type),
    "output shape": rows.map((r) => r.outputShape),
    params: rows.map((r) => r.params),
    "what it does": rows.map((r) => r.role),
  });
}

/**
 * Keras's model.summary() as text no wider than `width` columns (a notebook's output area shows about 100): one
 * line per layer with its name, output shape and parameters, then the totals. A layer named after its class, as
 * tfjs names them (`batch_normalization_BatchNormalization1`), is not followed by the class again.
 */
export function modelSummaryText(model: tfl.LayersModel, width = 100): string {
  const rows = modelSummaryRows(model);
  const label = (r: LayerRow) => (r.layer.includes(r.type) ? r.layer : `${r.layer} (${r.type})`);
  const shapeWidth = Math.max(12, ...rows.map((r) => r.outputShape.length)) + 2;
  const paramsWidth = 10;
  const labelWidth = Math.max(12, width - shapeWidth - paramsWidth);
  const fit = (text: string, n: number) => (text.length < n ? text.padEnd(n) : `${text.slice(0, n - 2)}… `);
  const line = (a: string, b: string, c: string) => `${fit(a, labelWidth)}${fit(b, shapeWidth)}${c.padStart(paramsWidth)}`.trimEnd();
  const counts = parameterCounts(model);
  const rule = (char: string) => char.repeat(Math.min(width, labelWidth + shapeWidth + paramsWidth));
  return [
    rule("_"),
    line("Layer (type)", "Output shape", "Param #"),
    rule("="),
    ...rows.map((r) => line(label(r), r.outputShape, String(r.params))),
    rule("="),
    `Total params: ${counts.total.toLocaleString("en")}`,
    `Trainable params: ${counts.trainable.toLocaleString("en")}`,
    `Non-trainable params: ${counts.nonTrainable.toLocaleString("en")}`,
    rule("_"),
  ].join("\n");
}

/** Total, trainable and non-trainable parameter counts (BatchNorm's moving statistics are not trained). */
export function parameterCounts(model: tfl.LayersModel): { total: number; trainable: number; nonTrainable: number } {
  const count = (weights: { shape: (number | null)[] }[]) =>
    weights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  const trainable = count(model.trainableWeights);
  const nonTrainable = count(model.nonTrainableWeights);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}
