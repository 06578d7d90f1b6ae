import * as path from "node:path";
import { MnistLabError, invalidParameterError } from "../shared/errors";
import { topologySha256 } from "../model/model";
import type { NotebookModel } from "../model/notebook_model";
import type { OptimizerName } from "./optimizers";
import { defaultRunsDir } from "../shared/paths";
import { resolveTrainConfig, runIdFor, type TrainConfigInput } from "./runs";
import { trainModel, trainRun, type RunResult, type TrainRunOptions } from "./train";

/** How much a notebook run does: `smoke` for CI (seconds), `quick` for the main job (minutes), `full` as the report. */
export type Profile = "smoke" | "quick" | "full";
export const PROFILES: readonly Profile[] = ["smoke", "quick", "full"];

export interface ProfileSettings {
  epochs: number;
  /** Train on the first N images (null: all 60,000). */
  trainLimit: number | null;
  /** Validate on the first N test images (null: all 10,000). */
  validationLimit: number | null;
  description: string;
  /** What results of this size can and cannot show, said wherever they are compared with the report. */
  canShow: string;
}

export const PROFILE_SETTINGS: Record<Profile, ProfileSettings> = {
  smoke: {
    epochs: 2,
    trainLimit: 1720,
    validationLimit: 1000,
    description: "2 epochs of 20 batches: checks the pipeline in seconds",
    canShow:
      "that every step runs; not accuracy — after 40 steps BatchNorm's moving statistics (momentum 0.99) have not settled, " +
      "so validation sits near chance whatever the training accuracy",
  },
  // 280 steps an epoch: enough for BatchNorm's moving statistics (momentum 0.99) to settle within the first epoch.
  quick: {
    epochs: 2,
    trainLimit: 24080,
    validationLimit: null,
    description: "2 epochs on 24,080 images: the curves and the confusion matrices in minutes",
    canShow: "the shape of the curves and which digits get confused; accuracies a few points below the report's 40 epochs",
  },
  full: {
    epochs: 40,
    trainLimit: null,
    validationLimit: null,
    description: "the report: 40 epochs on all 60,000 images",
    canShow: "the report's figures, one seed at a time; 04_reproduction sets them against several seeds",
  },
};

/** The training config of one optimizer under a profile: the report's settings with the profile's size. */
export function profileTrainConfig(
  profile: Profile,
  optimizer: OptimizerName,
  overrides: Partial<TrainConfigInput> = {},
): TrainConfigInput {
  const settings = PROFILE_SETTINGS[profile];
  if (!settings) throw new MnistLabError(`Expected profile ${PROFILES.join(", ")} but found ${JSON.stringify(profile)}`);
  return { epochs: settings.epochs, trainLimit: settings.trainLimit, validationLimit: settings.validationLimit, ...overrides, optimizer };
}

/** The directory a config trains into (its id is a hash of the whole config). */
export function runDirFor(config: TrainConfigInput, runsDir = defaultRunsDir()): string {
  return path.join(runsDir, runIdFor(resolveTrainConfig(config)));
}

/** What trainProfileRun needs of a notebook model (loadNotebookModel's result). */
export type ProfileModel = Pick<NotebookModel, "sameAsReport" | "build" | "source">;

/** The profile's config without the report's CNN knobs, refused for a model that is another network. */
function otherModelConfig(profile: Profile, optimizer: OptimizerName, overrides: Partial<TrainConfigInput>, model: ProfileModel) {
  if (overrides.model != null || overrides.architecture != null) {
    throw invalidParameterError(
      "overrides.model",
      `no knobs of the report's CNN for ${model.source}'s model, which is another network`,
      overrides.model ?? overrides.architecture,
    );
  }
  const config = profileTrainConfig(profile, optimizer, overrides);
  const { model: _knobs, architecture: _architecture, ...input } = config;
  return { input, seed: resolveTrainConfig(config).seed };
}

/**
 * The config trainProfileRun trains for the same arguments (on the verified MNIST): the profile's config, or for a
 * notebook model that is not the report's CNN, one naming its architecture. Give it to loadFinishedRun or runDirFor
 * to find that run.
 * @example
 * const run = loadFinishedRun(await profileRunConfig("smoke", "adam", { seed: 42 }, await loadNotebookModel()));
 */
export async function profileRunConfig(
  profile: Profile,
  optimizer: OptimizerName,
  overrides: Partial<TrainConfigInput> = {},
  model?: ProfileModel,
): Promise<TrainConfigInput> {
  if (!model || model.sameAsReport) return profileTrainConfig(profile, optimizer, overrides);
  const { input, seed } = otherModelConfig(profile, optimizer, overrides, model);
  const built = await model.build(seed);
  try {
    return { ...input, model: null, architecture: { sha256: topologySha256(built), parameters: built.countParams() } };
  } finally {
    built.dispose();
  }
}

/**
 * Trains one optimizer of a profile on the model 02_train shows: with no `model`, or one that is the report's CNN,
 * exactly as `trainRun(profileTrainConfig(…))` (the CLI's run, so nothing trained before is lost); otherwise
 * `model.build(seed)` through trainModel, as a cached, resumable run of its own (`model<parameters>-…`) with the
 * profile's settings. Without `loadModel`, the trained model is disposed and left out of the result.
 * @example
 * const model = await loadNotebookModel();
 * const run = await trainProfileRun("smoke", "rmsprop", { seed: 42 }, { data: mnist, model, loadModel: false });
 */
export async function trainProfileRun(
  profile: Profile,
  optimizer: OptimizerName,
  overrides: Partial<TrainConfigInput> = {},
  options: TrainRunOptions & { model?: ProfileModel },
): Promise<RunResult> {
  const { model, ...trainOptions } = options;
  if (!model || model.sameAsReport) return trainRun(profileTrainConfig(profile, optimizer, overrides), trainOptions);
  const { input, seed } = otherModelConfig(profile, optimizer, overrides, model);
  const built = await model.build(seed);
  const keep = trainOptions.loadModel ?? true;
  let handedOver = false;
  try {
    const run = await trainModel(built, input, trainOptions);
    handedOver = keep;
    return keep ? run : { ...run, model: undefined };
  } finally {
    if (!handedOver) {
      built.optimizer?.dispose();
      built.dispose();
    }
  }
}
