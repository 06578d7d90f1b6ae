import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { DamagedFileError, readCheckedDir, writeCheckedDir } from "../shared/checked_dir";
import { MnistLabError } from "../shared/errors";

// tfjs's "file://" handler lives in tfjs-node, which cannot be installed here, so models are written
// through tfjs's in-memory IO handlers in the same layout: model.json + one weights.bin shard.

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/** The two files of a model in tfjs layers format, in memory. */
export async function modelToFiles(model: tfl.LayersModel): Promise<{ [MODEL_JSON]: string; [WEIGHTS_BIN]: Uint8Array }> {
  let files: { [MODEL_JSON]: string; [WEIGHTS_BIN]: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      };
      files = { [MODEL_JSON]: JSON.stringify(modelJson), [WEIGHTS_BIN]: joinWeightData(artifacts.weightData) };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!files) throw new MnistLabError("tfjs did not hand the model artifacts to the save handler");
  return files;
}

/**
 * Saves `model` as `dir/model.json` + `dir/weights.bin` (tfjs layers format, loadable by `tf.loadLayersModel`
 * from a browser or tfjs-node) with `checksums.json`, replacing `dir` as a whole (see writeCheckedDir).
 */
export async function saveModelDir(model: tfl.LayersModel, dir: string): Promise<void> {
  await writeCheckedDir(dir, await modelToFiles(model), { replace: true });
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function parseModelJson(file: string, text: string): tf.io.ModelJSON {
  try {
    return JSON.parse(text) as tf.io.ModelJSON;
  } catch (err) {
    throw new DamagedFileError(file, `to be a tfjs model.json but it is not JSON (${(err as Error).message})`);
  }
}

/** model.json and the joined weights of a model directory, verified against its checksums.json when it has one. */
function readModelFiles(dir: string): { modelJson: tf.io.ModelJSON; specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const file = path.join(dir, MODEL_JSON);
  if (!fs.existsSync(file)) throw new MnistLabError(`Expected a tfjs model at ${file} but it does not exist`);
  const checked = readCheckedDir(dir, { optional: true });
  const read = (name: string): Buffer => checked?.get(name) ?? fs.readFileSync(path.join(dir, name));
  const modelJson = parseModelJson(file, read(MODEL_JSON).toString("utf8"));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const bytes = read(path.normalize(p));
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  const data = tf.io.concatenateArrayBuffers(buffers);
  const expectedBytes = specs.reduce(
    (sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * (s.quantization ? NaN : (DTYPE_BYTES[s.dtype] ?? NaN)),
    0,
  );
  if (Number.isFinite(expectedBytes) && data.byteLength !== expectedBytes) {
    throw new DamagedFileError(
      path.join(dir, WEIGHTS_BIN),
      `to hold the ${expectedBytes} bytes of weights that ${MODEL_JSON} lists but found ${data.byteLength}`,
    );
  }
  return { modelJson, specs, data };
}

/** The layer classes tfjs can build from a topology (its serialization registry), sorted. */
export function knownLayerClasses(): string[] {
  const registry = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.keys(registry)
    .filter((name) => (registry[name][0] as { prototype?: unknown }).prototype instanceof tfl.layers.Layer)
    .sort();
}

/**
 * tfjs's refusal of a layer class it does not know ("Unknown layer: X. This may be due to …", three lines about
 * Python) as one line naming X, where it was found, and the classes tfjs knows; undefined for any other error.
 */
export function unknownLayerError(err: unknown, where: string): MnistLabError | undefined {
  const name = /^Unknown layer: ([^\s.]+)/.exec(err instanceof Error ? err.message : "")?.[1];
  if (name === undefined) return undefined;
  return new MnistLabError(`Expected tfjs layer classes in ${where} but found ${name}; tfjs knows ${knownLayerClasses().join(", ")}`, {
    cause: err,
  });
}

/** Loads a model saved by {@link saveModelDir} (uncompiled unless it was saved with its training config). */
export async function loadModelDir(dir: string): Promise<tfl.LayersModel> {
  const { modelJson, specs, data } = readModelFiles(dir);
  try {
    return await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData: data,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        trainingConfig: modelJson.trainingConfig,
      }),
    );
  } catch (err) {
    throw unknownLayerError(err, path.join(dir, MODEL_JSON)) ?? err;
  }
}

/**
 * Sets the weights of an already built `model` of the same architecture from a directory written by
 * {@link saveModelDir}, by position: a model rebuilt in another cell has the same weights under other names.
 */
export function loadWeightsIntoModel(model: tfl.LayersModel, dir: string): void {
  const { specs, data } = readModelFiles(dir);
  const decoded = tf.io.decodeWeights(data, specs);
  try {
    const targets = model.weights;
    if (targets.length !== specs.length) {
      throw new MnistLabError(
        `Expected ${targets.length} weights for ${model.name} in ${dir} but found ${specs.length}: not the same architecture`,
      );
    }
    specs.forEach((spec, i) => {
      if (!tf.util.arraysEqual(spec.shape, targets[i].shape as number[])) {
        throw new MnistLabError(
          `Expected weight ${i} (${targets[i].originalName}) of shape [${targets[i].shape}] in ${dir} ` +
            `but found ${spec.name} [${spec.shape}]`,
        );
      }
    });
    model.setWeights(specs.map((spec) => decoded[spec.name]));
  } finally {
    tf.dispose(Object.values(decoded));
  }
}

/** Optimizer state (slots and iteration count, from `optimizer.getWeights()`) as a JSON manifest and a binary. */
export async function optimizerStateToFiles(optimizer: tf.Optimizer): Promise<{ json: string; bin: Uint8Array }> {
  const named = await optimizer.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights(named);
    return { json: JSON.stringify({ className: optimizer.getClassName(), weights: specs }), bin: joinWeightData(data) };
  } finally {
    // getWeights() returns the live slot variables plus a fresh "iter" scalar: only the latter is ours.
    const iter = named.find((w) => w.name === "iter");
    if (iter) iter.tensor.dispose();
  }
}

/** Restores optimizer state written by {@link optimizerStateToFiles} into a fresh optimizer of the same class. */
export async function restoreOptimizerState(optimizer: tf.Optimizer, json: string, bin: Uint8Array): Promise<void> {
  const manifest = JSON.parse(json) as { className: string; weights: tf.io.WeightsManifestEntry[] };
  if (manifest.className !== optimizer.getClassName()) {
    throw new MnistLabError(`Expected optimizer state of ${optimizer.getClassName()} but found ${manifest.className}`);
  }
  const data = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(data, manifest.weights);
  // decodeWeights keeps manifest order, which is the order setWeights expects (iter first, then slots).
  const named = manifest.weights.map((spec) => ({ name: spec.name, tensor: map[spec.name] }));
  try {
    await optimizer.setWeights(named);
  } finally {
    tf.dispose(Object.values(map));
  }
}
