// A model's size, known before tfjs allocates it: a notebook can save a topology with a million filters, and
// building it would take minutes and gigabytes before any check could run.
import { MnistLabError } from "../shared/errors";

/**
 * The largest model we build or train: 50 million parameters is 200 MB of float32 weights, and training holds
 * about four times that (gradients and two Adam moments); the report's CNN has 350,090.
 */
export const MAX_MODEL_PARAMETERS = 50_000_000;

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

const pair = (v: unknown, fallback: number): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : v === undefined || v === null ? [fallback, fallback] : [Number(v), Number(v)];

const sideAfter = (size: number, kernel: number, stride: number, padding: unknown): number =>
  padding === "same" ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;

/**
 * Parameters of a Sequential Keras topology, from its layers' configs alone (nothing is built), with the largest
 * layer; undefined for a topology it cannot follow (another class, an unknown layer), which tfjs then builds as usual.
 */
export function estimateParameters(topology: {
  class_name: string;
  config: Record<string, unknown>;
}): { parameters: number; largest: { index: number; className: string; parameters: number } } | undefined {
  if (topology.class_name !== "Sequential") return undefined;
  const layers = (topology.config.layers ?? []) as LayerJson[];
  let shape: number[] | undefined;
  let parameters = 0;
  let largest = { index: 0, className: "", parameters: -1 };
  for (const [i, layer] of layers.entries()) {
    const c = layer.config;
    const input = (c.batch_input_shape ?? c.batchInputShape) as Array<number | null> | undefined;
    if (input) shape = input.slice(1).map(Number);
    if (!shape) return undefined;
    let own = 0;
    switch (layer.class_name) {
      case "InputLayer":
      case "Dropout":
      case "Activation":
        break;
      case "Conv2D": {
        const [kh, kw] = pair(c.kernel_size, 1);
        const [sh, sw] = pair(c.strides, 1);
        const filters = Number(c.filters);
        own = kh * kw * shape[2] * filters + (c.use_bias === false ? 0 : filters);
        shape = [sideAfter(shape[0], kh, sh, c.padding), sideAfter(shape[1], kw, sw, c.padding), filters];
        break;
      }
      case "BatchNormalization":
        own = 4 * shape[shape.length - 1];
        break;
      case "MaxPooling2D":
      case "AveragePooling2D": {
        const [ph, pw] = pair(c.pool_size, 2);
        const [sh, sw] = pair(c.strides, ph);
        shape = [sideAfter(shape[0], ph, sh, c.padding), sideAfter(shape[1], pw, sw, c.padding), shape[2]];
        break;
      }
      case "Flatten":
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case "Dense": {
        const units = Number(c.units);
        own = shape[shape.length - 1] * units + (c.use_bias === false ? 0 : units);
        shape = [...shape.slice(0, -1), units];
        break;
      }
      default:
        return undefined;
    }
    if (shape.some((s) => !Number.isFinite(s) || s < 0) || !Number.isFinite(own)) return undefined;
    parameters += own;
    if (own > largest.parameters) largest = { index: i + 1, className: layer.class_name, parameters: own };
  }
  return { parameters, largest };
}

/** Refuses, in one line, a count above {@link MAX_MODEL_PARAMETERS}; `what` names the model and `where` the layer. */
export function checkModelSize(parameters: number, what: string, where = ""): void {
  if (parameters <= MAX_MODEL_PARAMETERS) return;
  const mb = (n: number) => `${Math.round((4 * n) / 1e6).toLocaleString("en")} MB`;
  throw new MnistLabError(
    `Expected a model of at most ${MAX_MODEL_PARAMETERS.toLocaleString("en")} parameters (${mb(MAX_MODEL_PARAMETERS)} of weights; ` +
      `training holds about four times that) but ${what} has ${parameters.toLocaleString("en")} (${mb(parameters)})${where}; ` +
      "make it smaller",
  );
}
