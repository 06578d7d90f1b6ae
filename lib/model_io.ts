import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { writeFileAtomic } from "./atomic_file";
import { MnistLabError } from "./errors";

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
 * from a browser or tfjs-node). Each file is replaced atomically; weights first, so a kill in between leaves
 * the new weights under the old (identical) topology.
 */
export async function saveModelDir(model: tfl.LayersModel, dir: string): Promise<void> {
  const files = await modelToFiles(model);
  await writeFileAtomic(path.join(dir, WEIGHTS_BIN), files[WEIGHTS_BIN]);
  await writeFileAtomic(path.join(dir, MODEL_JSON), files[MODEL_JSON]);
}

function readModelJson(dir: string): tf.io.ModelJSON {
  const file = path.join(dir, MODEL_JSON);
  if (!fs.existsSync(file)) throw new MnistLabError(`Expected a tfjs model at ${file} but it does not exist`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as tf.io.ModelJSON;
}

function readWeights(dir: string, modelJson: tf.io.ModelJSON): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const bytes = fs.readFileSync(path.join(dir, p));
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  return { specs, data: tf.io.concatenateArrayBuffers(buffers) };
}

/** Loads a model saved by {@link saveModelDir} (uncompiled unless it was saved with its training config). */
export async function loadModelDir(dir: string): Promise<tfl.LayersModel> {
  const modelJson = readModelJson(dir);
  const { specs, data } = readWeights(dir, modelJson);
  return tfl.loadLayersModel(
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
}

/** Sets the weights of an already built `model` (same architecture) from a directory written by {@link saveModelDir}. */
export function loadWeightsIntoModel(model: tfl.LayersModel, dir: string): void {
  const { specs, data } = readWeights(dir, readModelJson(dir));
  const weights = tf.io.decodeWeights(data, specs);
  try {
    model.loadWeights(weights, true);
  } finally {
    tf.dispose(Object.values(weights));
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
