import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tfl from "@tensorflow/tfjs-layers";
import { writeFileAtomic } from "../shared/atomic_file";
import { DamagedFileError } from "../shared/checked_dir";
import { MnistLabError, invalidParameterError } from "../shared/errors";
import { checkModelSize, estimateParameters } from "./model_size";
import { defaultRunsDir } from "../shared/paths";
import { REPORT_CNN_PARAMS, buildReportCnn, checkMnistModel, compareArchitectures, topologySha256 } from "./model";
import { unknownLayerError } from "./model_io";

// The model of 01_model's `report-model` cell, handed to 02_train and 05_experiments: 01 saves its topology
// into the runs directory, 02 and 05 rebuild it with seeded initializers and train it.

/** The file 01_model writes into the runs directory (a file, so listRuns, which reads directories, passes it by). */
export const NOTEBOOK_MODEL_FILE = "notebook-model.json";

const FORMAT = "mnist-lab notebook model";

/** A model's Keras topology as `model.toJSON(null, false)` gives it (model.json's `modelTopology`). */
export interface KerasTopology {
  class_name: string;
  config: Record<string, unknown>;
  [key: string]: unknown;
}

/** A model to train, as its topology: each build is a fresh model. An arm of runExperiments takes one as it is. */
export interface ModelSpec {
  topology: KerasTopology;
  /** Builds the model (uncompiled) with its initializers seeded `seed`, `seed + 1`, … in layer order, as buildReportCnn does. */
  build: (seed: number) => Promise<tfl.LayersModel>;
}

/** The model 02_train and 05_experiments train: 01_model's cell as last saved, or the report's CNN. */
export interface NotebookModel extends ModelSpec {
  /** `01_model`: the cell's model, saved in `file`; `report`: no model saved there, so the report's CNN. */
  source: "01_model" | "report";
  file: string;
  /** When 01_model saved it (ISO 8601), null for the report's CNN. */
  savedAt: string | null;
  parameters: number;
  /** Layers, settings and initializers as the report's CNN: then 02_train trains the report's runs (the CLI's). */
  sameAsReport: boolean;
  /** What differs from the report's CNN, one line per layer (empty when sameAsReport). */
  differences: string[];
  /** What this model is and how 02_train trains it, for a notebook to print. */
  summary: string;
}

/** What notebook-model.json holds. */
interface SavedNotebookModel {
  format: typeof FORMAT;
  savedAt: string;
  parameters: number;
  /** SHA-256 of `JSON.stringify(modelTopology)`: a damaged file is named, never trained. */
  sha256: string;
  modelTopology: KerasTopology;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function topologyOf(model: tfl.LayersModel): KerasTopology {
  const json = model.toJSON(null, false);
  return (typeof json === "string" ? JSON.parse(json) : JSON.parse(JSON.stringify(json))) as KerasTopology;
}

/**
 * Saves the model of 01_model's `report-model` cell for 02_train and 05_experiments: its Keras topology (not its
 * weights: they train it from seeded initial weights), its parameter count and the time, written atomically to
 * `<runsDir>/notebook-model.json`. Returns the file's path.
 * @example
 * const file = await saveNotebookModel(model); // then loadNotebookModel() in 02_train rebuilds it
 */
export async function saveNotebookModel(model: tfl.LayersModel, runsDir: string = defaultRunsDir()): Promise<string> {
  checkMnistModel(model);
  const modelTopology = topologyOf(model);
  const saved: SavedNotebookModel = {
    format: FORMAT,
    savedAt: new Date().toISOString(),
    parameters: model.countParams(),
    sha256: sha256(JSON.stringify(modelTopology)),
    modelTopology,
  };
  const file = path.join(path.resolve(runsDir), NOTEBOOK_MODEL_FILE);
  await writeFileAtomic(file, JSON.stringify(saved, null, 1));
  return file;
}

function readSaved(file: string): SavedNotebookModel {
  let saved: SavedNotebookModel;
  try {
    saved = JSON.parse(fs.readFileSync(file, "utf8")) as SavedNotebookModel;
  } catch (err) {
    throw new DamagedFileError(file, `to be the model 01_model saved but it is not JSON (${(err as Error).message}); re-run 01_model`);
  }
  if (saved?.format !== FORMAT || typeof saved.modelTopology?.class_name !== "string") {
    throw new DamagedFileError(file, `to be a "${FORMAT}" with a modelTopology but found something else; re-run 01_model`);
  }
  if (sha256(JSON.stringify(saved.modelTopology)) !== saved.sha256) {
    throw new DamagedFileError(file, "to match its sha256 but its topology was changed or damaged; re-run 01_model");
  }
  return saved;
}

/**
 * A copy of `topology` whose initializers are seeded `seed`, `seed + 1`, … in layer order (within a layer, in the
 * order of its config's keys): every `*_initializer` whose config has a `seed` field gets the next one, whatever
 * it held. buildReportCnn numbers its kernels the same way, so the report's CNN gets the same initial weights.
 */
export function seedTopology(topology: KerasTopology, seed: number): KerasTopology {
  const copy = structuredClone(topology);
  let next = seed;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        const init = (child as { config?: Record<string, unknown> } | null)?.config;
        if (key.endsWith("_initializer") && init && "seed" in init) init.seed = next++;
        else visit(child);
      }
    }
  };
  visit(copy.config);
  return copy;
}

/** A ModelSpec that rebuilds `topology` through tfjs's own deserializer, as `tf.loadLayersModel` does. */
export function modelSpecFromTopology(topology: KerasTopology): ModelSpec {
  return {
    topology,
    build: async (seed: number) => {
      // Before tfjs allocates anything: a saved topology may hold a million filters.
      const estimate = estimateParameters(topology);
      if (estimate) {
        const { index, className, parameters } = estimate.largest;
        checkModelSize(estimate.parameters, "the saved model", ` (layer ${index}, ${className}, has ${parameters.toLocaleString("en")})`);
      }
      let model: tfl.LayersModel;
      try {
        const modelTopology = seedTopology(topology, seed) as unknown as tfl.ModelAndWeightsConfig["modelTopology"];
        model = await tfl.models.modelFromJSON({ modelTopology });
      } catch (err) {
        const unknownLayer = unknownLayerError(err, `the ${topology.class_name} topology 01_model saved`);
        if (unknownLayer) throw unknownLayer;
        const reason = (err as Error).message.split("\n")[0];
        throw new MnistLabError(`Expected a ${topology.class_name} topology that tfjs can build but it refused: ${reason}`, { cause: err });
      }
      try {
        checkMnistModel(model);
      } catch (err) {
        model.dispose();
        throw err;
      }
      return model;
    },
  };
}

/** One line per layer whose Keras config (name aside) differs, for differences compareArchitectures does not see. */
function configDifferences(a: tfl.LayersModel, b: tfl.LayersModel): string[] {
  const differences: string[] = [];
  const [ta, tb] = [a, b].map((m) => (topologyOf(m).config.layers ?? []) as KerasTopology[]);
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    const [x, y] = [ta[i]?.config ?? {}, tb[i]?.config ?? {}];
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => k !== "name");
    const changed = keys.filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
    if (changed.length > 0) {
      const show = (c: Record<string, unknown>) => changed.map((k) => `${k}=${JSON.stringify(c[k])}`).join(" ");
      differences.push(`layer ${i + 1}: ${ta[i]?.class_name ?? "(none)"} ${show(x)} vs ${tb[i]?.class_name ?? "(none)"} ${show(y)}`);
    }
  }
  return differences.length > 0 ? differences : ["the topology differs outside the layers' configs"];
}

/** The report's CNN as a NotebookModel, for when 01_model has saved none. */
function reportNotebookModel(file: string): NotebookModel {
  const model = buildReportCnn();
  const topology = topologyOf(model);
  model.dispose();
  return {
    topology,
    build: async (seed: number) => buildReportCnn({ seed }),
    source: "report",
    file,
    savedAt: null,
    parameters: REPORT_CNN_PARAMS,
    sameAsReport: true,
    differences: [],
    summary:
      `01_model has saved no model in ${file}: 02_train and 05_experiments train the report's CNN ` +
      `(${REPORT_CNN_PARAMS.toLocaleString("en")} parameters); 02_train's runs are the report's (the CLI's too)`,
  };
}

export interface NotebookModelOptions {
  /** Where 01_model saved it (default: {@link defaultRunsDir}). */
  runsDir?: string;
  /** The notebook that loads it: its summary says what that notebook does with it (default 02_train's words). */
  notebook?: "02_train" | "03_evaluate" | "05_experiments";
}

/**
 * The model 02_train and 05_experiments train: the topology 01_model saved in `<runsDir>/notebook-model.json`,
 * else the report's CNN; whether it is the report's CNN exactly (same layers, settings and initializers, so the
 * same initial weights as `buildReportCnn({ seed })`), what differs, and a `build(seed)` that rebuilds it.
 * @example
 * const model = await loadNotebookModel();
 * console.log(model.summary);
 * const run = await trainProfileRun("smoke", "rmsprop", { seed: 42 }, { data: mnist, model });
 */
export async function loadNotebookModel(options: string | NotebookModelOptions = {}): Promise<NotebookModel> {
  const { runsDir = defaultRunsDir(), notebook } = typeof options === "string" ? { runsDir: options, notebook: undefined } : options;
  const file = path.join(path.resolve(runsDir), NOTEBOOK_MODEL_FILE);
  const experiments = notebook === "05_experiments";
  if (!fs.existsSync(file)) {
    const report = reportNotebookModel(file);
    if (experiments) report.summary = `01_model has saved no model in ${file}: every comparison below starts from the report's CNN`;
    return report;
  }
  const saved = readSaved(file);
  const spec = modelSpecFromTopology(saved.modelTopology);
  // Any seed shows the difference, as long as both models get the same one.
  const built = await spec.build(0);
  // The count is the built model's: the file's figure is only what it was when 01_model saved it.
  const parameters = built.countParams();
  const report = buildReportCnn({ seed: 0 });
  let differences: string[];
  try {
    const sameTopology = topologySha256(built) === topologySha256(report);
    differences = sameTopology ? [] : compareArchitectures(built, report).differences;
    if (!sameTopology && differences.length === 0) differences = configDifferences(built, report);
  } finally {
    built.dispose();
    report.dispose();
  }
  const sameAsReport = differences.length === 0;
  const what = `01_model's model (saved ${saved.savedAt}, ${parameters.toLocaleString("en")} parameters)`;
  const listed = differences.map((d) => `  ${d}`).join("\n");
  const summary = experiments
    ? sameAsReport
      ? `${what} is the report's CNN: every comparison below starts from it`
      : `${what} differs from the report's CNN in ${differences.length} layer(s): every comparison below starts from it, ` +
        `as runs of its own, and says what of this edit it keeps; re-run 01_model's unchanged cell to go back\n${listed}`
    : sameAsReport
      ? `${what} is the report's CNN: 02_train trains the report's runs (the CLI's too)`
      : `${what} differs from the report's CNN in ${differences.length} layer(s): 02_train trains it as runs of its own (model…); ` +
        `re-run 01_model's unchanged cell to go back\n${listed}`;
  return { ...spec, source: "01_model", file, savedAt: saved.savedAt, parameters, sameAsReport, differences, summary };
}

/** A change to a Sequential model's layer list: what 05_experiments' comparisons vary. */
export interface ModelVariant {
  /** Rate of every Dropout layer. */
  dropout?: number;
  /** false: without its BatchNormalization layers. */
  batchNormalization?: boolean;
  /** Kernel size of the first `convs` Conv2D layers. */
  kernelSize?: { size: number; convs: number };
}

interface LayerEntry {
  class_name: string;
  config: Record<string, unknown>;
}

/**
 * Derives a variant of a Sequential model by editing its layer configs: another rate on every Dropout layer,
 * no BatchNormalization layers, or another kernel size on the first N Conv2D layers. Shapes downstream follow
 * when the variant is built (a 3×3 'valid' conv leaves more features for the dense layer).
 * @example
 * const noDropout = modelVariant(await loadNotebookModel(), { dropout: 0 });
 * const model = await noDropout.build(42);
 */
export function modelVariant(spec: ModelSpec, change: ModelVariant): ModelSpec {
  const topology = structuredClone(spec.topology);
  if (topology.class_name !== "Sequential") {
    throw new MnistLabError(
      `Expected a Sequential model to derive a variant from (its layer list is edited) but found a ${topology.class_name} model; ` +
        "build the variant in a cell and train it with runExperiments or trainModel",
    );
  }
  let layers = topology.config.layers as LayerEntry[];
  const ofClass = (name: string) => layers.filter((l) => l.class_name === name);
  if (change.dropout !== undefined) {
    if (typeof change.dropout !== "number" || !(change.dropout >= 0 && change.dropout < 1))
      throw invalidParameterError("dropout", "a rate in [0, 1)", change.dropout);
    const dropouts = ofClass("Dropout");
    if (dropouts.length === 0) throw new MnistLabError("Expected Dropout layers to set the rate of but the model has none");
    for (const layer of dropouts) layer.config.rate = change.dropout;
  }
  if (change.batchNormalization === false) {
    if (ofClass("BatchNormalization").length === 0)
      throw new MnistLabError("Expected BatchNormalization layers to leave out but the model has none");
    const kept: LayerEntry[] = [];
    let inputShape: Record<string, unknown> | undefined;
    for (const layer of layers) {
      const { batch_input_shape, dtype } = layer.config;
      if (layer.class_name === "BatchNormalization") {
        // The first layer carries the model's input shape: the next layer takes it over.
        if (batch_input_shape !== undefined) inputShape = { batch_input_shape, dtype };
        continue;
      }
      if (inputShape && batch_input_shape === undefined) layer.config = { ...layer.config, ...inputShape };
      inputShape = undefined;
      kept.push(layer);
    }
    layers = topology.config.layers = kept;
  }
  if (change.kernelSize !== undefined) {
    const { size, convs } = change.kernelSize;
    if (!Number.isInteger(size) || size <= 0) throw invalidParameterError("kernelSize.size", "an integer > 0", size);
    if (!Number.isInteger(convs) || convs <= 0) throw invalidParameterError("kernelSize.convs", "an integer > 0", convs);
    const found = ofClass("Conv2D");
    if (found.length < convs) {
      throw new MnistLabError(`Expected at least ${convs} Conv2D layers to resize but the model has ${found.length}`);
    }
    for (const layer of found.slice(0, convs)) layer.config.kernel_size = [size, size];
  }
  return modelSpecFromTopology(topology);
}

/** What a comparison of 05_experiments varies: the part of 01_model's edit its arms set themselves. */
export type ComparisonVaries = "dropout" | "batchNormalization" | "kernelSize" | "augmentation";

/** One setting of one layer that differs from the report's CNN (names and initializer seeds left out). */
interface SettingDifference {
  layer: number;
  className: string;
  key: string;
  text: string;
}

/** Per layer and setting, how `topology` differs from the report's CNN; null when the layer lists differ. */
function settingDifferences(topology: KerasTopology): SettingDifference[] | null {
  const report = buildReportCnn();
  const reportLayers = (topologyOf(report).config.layers ?? []) as LayerEntry[];
  report.dispose();
  const layers = (topology.config.layers ?? []) as LayerEntry[];
  if (layers.length !== reportLayers.length || layers.some((l, i) => l.class_name !== reportLayers[i].class_name)) return null;
  // Names differ between builds and seeds are set per build: neither is part of an edit.
  const comparable = (value: unknown) => JSON.stringify(value, (key, v) => (key === "name" || key === "seed" ? undefined : v));
  const differences: SettingDifference[] = [];
  layers.forEach((layer, i) => {
    const ours = layer.config;
    const theirs = reportLayers[i].config;
    for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      if (key === "name" || comparable(ours[key]) === comparable(theirs[key])) continue;
      const text = `layer ${i + 1} (${layer.class_name}) ${key} ${comparable(theirs[key])} → ${comparable(ours[key])}`;
      differences.push({ layer: i + 1, className: layer.class_name, key, text });
    }
  });
  return differences;
}

/**
 * What of 01_model's edit a comparison of 05_experiments keeps, in one or two sentences: a comparison whose arms set
 * the edited setting themselves (every dropout rate, the first convolutions' kernels) returns the same runs
 * after the edit, and says so instead of looking as if it had tested the edit.
 * @param options.kernelConvs how many convolutions a kernelSize comparison sets (05: 3)
 * @example
 * console.log(comparisonScope(await loadNotebookModel(), "dropout"));
 */
export function comparisonScope(model: NotebookModel, varies: ComparisonVaries, options: { kernelConvs?: number } = {}): string {
  if (model.sameAsReport) return "01_model's model is the report's CNN: this comparison starts from it.";
  const differences = settingDifferences(model.topology);
  if (differences === null) {
    const count = `${model.differences.length} difference(s), see the model above`;
    return `01_model's model has other layers than the report's CNN: every arm of this comparison keeps them (${count}).`;
  }
  const kernelConvs = options.kernelConvs ?? 3;
  const convIndex = new Map<number, number>();
  let conv = 0;
  ((model.topology.config.layers ?? []) as LayerEntry[]).forEach((l, i) => l.class_name === "Conv2D" && convIndex.set(i + 1, conv++));
  const setByArms = (d: SettingDifference) =>
    (varies === "dropout" && d.className === "Dropout" && d.key === "rate") ||
    (varies === "kernelSize" &&
      d.className === "Conv2D" &&
      d.key === "kernel_size" &&
      (convIndex.get(d.layer) ?? kernelConvs) < kernelConvs);
  const overridden = differences.filter(setByArms);
  const kept = differences.filter((d) => !setByArms(d));
  const list = (ds: SettingDifference[]) => ds.map((d) => d.text).join("; ");
  const what = {
    dropout: "every dropout rate",
    kernelSize: `the kernels of the first ${kernelConvs} convolutions`,
    batchNormalization: "",
    augmentation: "",
  }[varies];
  if (kept.length === 0) {
    const same = "so it gives the same runs as before the edit";
    return `01_model's edit (${list(overridden)}) cannot change this comparison: its arms set ${what} themselves, ${same}.`;
  }
  const keeps = `This comparison keeps 01_model's edit: ${list(kept)}`;
  if (varies === "batchNormalization" && kept.some((d) => d.className === "BatchNormalization")) {
    return `${keeps} (the arm without BatchNormalization drops its BatchNormalization settings).`;
  }
  return overridden.length === 0 ? `${keeps}.` : `${keeps}. Not the rest (${list(overridden)}): its arms set ${what} themselves.`;
}
