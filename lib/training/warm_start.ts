// What a run's model went through before its logged epochs, for the forensic re-enactments: a head start (steps
// trained and not logged, as an interrupted and re-run notebook cell leaves them) and a start from another run's
// trained weights (a model recompiled with a new optimizer, whose state starts fresh as Keras's does).
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { MnistLabError } from "../shared/errors";
import { permutation, type Rng } from "../shared/random";
import { loadWeightsIntoModel } from "../model/model_io";
import type { LogSink } from "./callbacks";
import type { BatchStepper } from "./batch_step";
import { RUN_FILES, type TrainConfig } from "./runs";
import type { StepLog } from "./steps";

/**
 * Prepares a fresh run's model: loads `config.startFrom`'s final weights, then trains `config.headStartSteps` steps on a
 * first shuffle. Returns those steps (epoch 0 in the per-step history); nothing for a run without either.
 */
export async function warmStart(
  model: tfl.LayersModel,
  config: Pick<TrainConfig, "startFrom" | "headStartSteps">,
  context: { runsDir: string; stepper: BatchStepper; rng: Rng; log: LogSink },
): Promise<StepLog[]> {
  if (config.startFrom !== undefined) {
    const from = path.join(context.runsDir, config.startFrom);
    if (!fs.existsSync(path.join(from, RUN_FILES.metrics))) {
      const found = fs.existsSync(from) ? "it unfinished" : "none";
      throw new MnistLabError(
        `Expected a finished run ${config.startFrom} in ${context.runsDir} to start from but found ${found}; train it first`,
      );
    }
    loadWeightsIntoModel(model, path.join(from, RUN_FILES.model));
    context.log(`Starting from the weights of ${config.startFrom}`);
  }
  const headStart = config.headStartSteps ?? 0;
  if (headStart === 0) return [];
  if (headStart > context.stepper.batchesPerEpoch) {
    throw new MnistLabError(`Expected headStartSteps to be at most ${context.stepper.batchesPerEpoch} (one epoch) but found ${headStart}`);
  }
  context.log(`Head start: ${headStart} steps before the logged epochs, as a re-run cell would have trained them`);
  const order = permutation(context.stepper.count, context.rng);
  const steps: StepLog[] = [];
  for (let b = 0; b < headStart; b++) {
    const { n, loss, accuracy } = await context.stepper.step(model, order, b, context.rng);
    steps.push({ epoch: 0, step: b + 1, size: n, loss, correct: Math.round(accuracy * n) });
  }
  return steps;
}
