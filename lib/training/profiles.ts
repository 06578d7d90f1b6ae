import * as path from "node:path";
import { MnistLabError } from "../shared/errors";
import type { OptimizerName } from "./optimizers";
import { defaultRunsDir } from "../shared/paths";
import { resolveTrainConfig, runIdFor, type TrainConfigInput } from "./runs";

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
      "that every step runs; not accuracy — after 40 steps BatchNorm's moving statistics (momentum 0.99) have not settled, so validation sits near chance whatever the training accuracy",
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
