import type * as tfl from "@tensorflow/tfjs-layers";
import pl from "nodejs-polars";

/** What each layer type does, in the report's words (模型结构). */
export const LAYER_ROLES: Record<string, string> = {
  Conv2D: "64 filters slide over the image; relu keeps training fast, adds non-linearity and avoids vanishing gradients",
  BatchNormalization:
    "normalises each channel: guards against exploding or vanishing gradients " +
    "and makes training robust to the learning rate and initialisation",
  MaxPooling2D: "keeps the largest value of each 2×2 window (stride 2): halves height and width",
  Dropout: "drops 25% of the activations while training, against overfitting",
  Flatten: "turns the 5×5×64 feature maps into one vector of 1600",
  Dense: "fully connected: 256 relu units, then 10 softmax outputs that form a probability distribution over the digits",
};

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
      role: LAYER_ROLES[layer.getClassName()] ?? "",
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

/** Total, trainable and non-trainable parameter counts (BatchNorm's moving statistics are not trained). */
export function parameterCounts(model: tfl.LayersModel): { total: number; trainable: number; nonTrainable: number } {
  const count = (weights: { shape: (number | null)[] }[]) =>
    weights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  const trainable = count(model.trainableWeights);
  const nonTrainable = count(model.nonTrainableWeights);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}
