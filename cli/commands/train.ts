import { Option, type Command } from "commander";
import {
  MnistLabError,
  REPORT_OPTIMIZERS,
  LOSSES,
  PRECISIONS,
  MNIST_TEST_IMAGES,
  MNIST_TRAIN_IMAGES,
  SCHEDULES,
  defaultRunsDir,
  fsErrorCode,
  initBackend,
  loadMnist,
  trainRun,
  type RunResult,
  type TrainConfigInput,
} from "../../lib";
import {
  BACKEND_CHOICES,
  BACKEND_HELP,
  UsageError,
  checkBatchSize,
  choiceOption,
  existingDirOption,
  integerOption,
  writableDirOption,
} from "../options";
import { terminalTraining } from "../terminal_output";

interface TrainCliOptions {
  optimizer: string;
  epochs?: string;
  batchSize?: string;
  trainLimit?: string;
  validationLimit?: string;
  validation?: string;
  schedule?: string;
  loss?: string;
  precision?: string;
  augment: boolean;
  seed?: string;
  learningRate?: string;
  filters?: string;
  denseUnits?: string;
  runsDir?: string;
  retrain?: boolean;
  json?: boolean;
  backend?: string;
  dataDir?: string;
  verify: boolean;
}

function parsePositiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`Expected ${flag} to be a number > 0 but found ${JSON.stringify(value)}`);
  return n;
}

const optionalInteger = (flag: string, value: string | undefined, min: number) =>
  value === undefined ? undefined : integerOption(flag, value, min);

/** Turns the command line into a training config, or throws UsageError before anything is loaded. */
export function trainConfigFromCli(opts: TrainCliOptions): TrainConfigInput {
  const optimizer = choiceOption("--optimizer", opts.optimizer, REPORT_OPTIMIZERS);
  if (opts.backend !== undefined) choiceOption("--backend", opts.backend, BACKEND_CHOICES);
  if (opts.validation !== undefined) choiceOption("--validation", opts.validation, ["test", "split"]);
  const schedule = opts.schedule === undefined ? undefined : choiceOption("--schedule", opts.schedule, SCHEDULES);
  const loss = opts.loss === undefined ? undefined : choiceOption("--loss", opts.loss, LOSSES);
  // float32 is the default and no field of the config, so that runs of before keep their ids.
  const precision = opts.precision === undefined ? undefined : choiceOption("--precision", opts.precision, ["float32", ...PRECISIONS]);
  const model: Record<string, number> = {};
  const filters = optionalInteger("--filters", opts.filters, 1);
  const denseUnits = optionalInteger("--dense-units", opts.denseUnits, 1);
  if (filters !== undefined) model.filters = filters;
  if (denseUnits !== undefined) model.denseUnits = denseUnits;
  return {
    optimizer,
    epochs: optionalInteger("--epochs", opts.epochs, 1),
    batchSize: optionalInteger("--batch-size", opts.batchSize, 1),
    trainLimit: optionalInteger("--train-limit", opts.trainLimit, 1),
    validationLimit: optionalInteger("--validation-limit", opts.validationLimit, 1),
    validation: opts.validation as "test" | "split" | undefined,
    schedule,
    loss,
    ...(precision === "mixed_bfloat16" ? { precision } : {}),
    augment: opts.augment,
    seed: optionalInteger("--seed", opts.seed, 0),
    learningRate: parsePositiveNumber("--learning-rate", opts.learningRate),
    ...(Object.keys(model).length > 0 ? { model } : {}),
  };
}

/**
 * Refuses a --train-limit or --validation-limit beyond the images there are (either would be silently cut, yet name
 * the run by the limit) and a --batch-size beyond the images it would batch.
 */
function checkAgainstImages(config: TrainConfigInput, images: { train: number; test: number }, where: string): void {
  const of = (split: string) => (where === "MNIST" ? `the MNIST ${split} images` : `the ${split} images in ${where}`);
  const limit = config.trainLimit ?? null;
  if (limit !== null && limit > images.train) {
    throw new UsageError(`Expected --train-limit to be at most ${images.train} (${of("training")}) but found ${limit}`);
  }
  const validationLimit = config.validationLimit ?? null;
  if (validationLimit !== null && validationLimit > images.test) {
    throw new UsageError(`Expected --validation-limit to be at most ${images.test} (${of("test")}) but found ${validationLimit}`);
  }
  checkBatchSize(
    "--batch-size",
    config.batchSize ?? undefined,
    limit ?? images.train,
    limit !== null ? "the --train-limit" : of("training"),
  );
}

/** Where the runs go, named as the user set it, for messages. */
function runsDirSource(opts: TrainCliOptions): string {
  if (opts.runsDir !== undefined) return "--runs-dir";
  return process.env.MNIST_LAB_RUNS_DIR ? "$MNIST_LAB_RUNS_DIR" : "the runs directory";
}

/** `mnist-lab train`: one run of the report's experiment, resumable, Keras-style logs. */
export function registerTrainCommand(program: Command): void {
  program
    .command("train")
    .description("train the report's CNN (resumes a killed run; loads a finished one unless --retrain)")
    .requiredOption("--optimizer <name>", "rmsprop or adam")
    .option("--epochs <n>", "epochs (default 40)")
    .option("--batch-size <n>", "batch size (default 86)")
    .option("--train-limit <n>", "train on the first N training images only")
    .option("--no-augment", "no random rotation/zoom/shift of training images")
    .option("--seed <s>", "seed of weights, shuffles, augmentation and dropout (default 42)")
    .option("--schedule <name>", "as-run (the report's Keras: constant rate) or as-intended (ReduceLROnPlateau on val_accuracy)", "as-run")
    .option("--loss <name>", "from-logits (Keras 2.3.1 on TensorFlow, the default) or clipped (tfjs's)")
    .option("--precision <name>", "float32 (the default) or mixed_bfloat16 (bf16 convolutions, f32 weights; AVX512_BF16 or AMX CPUs)")
    .option("--runs-dir <dir>", "where run directories go (default: $MNIST_LAB_RUNS_DIR, else runs/ in the project)")
    .option("--retrain", "discard a stored run of this config and train again")
    .option("--json", "end with one JSON line of results")
    .option("--backend <name>", BACKEND_HELP)
    .option("--data-dir <dir>", "directory with the four MNIST IDX files")
    .option("--no-verify", "skip the MD5 check of the data files (for other data in MNIST's format)")
    .addOption(new Option("--validation <where>", "test (the report) or split (held-out 10% of train)").hideHelp())
    .addOption(new Option("--validation-limit <n>", "validate on the first N images only").hideHelp())
    .addOption(new Option("--learning-rate <lr>", "initial learning rate (default 0.001)").hideHelp())
    .addOption(new Option("--filters <n>", "filters per conv layer (default 64)").hideHelp())
    .addOption(new Option("--dense-units <n>", "units of the hidden dense layer (default 256)").hideHelp())
    .action(async (opts: TrainCliOptions) => {
      const config = trainConfigFromCli(opts);
      const dataDir = existingDirOption("--data-dir", opts.dataDir);
      const runsDir = writableDirOption(runsDirSource(opts), opts.runsDir ?? defaultRunsDir());
      // MD5-checked data is the original MNIST, so its count is known before loading.
      if (opts.verify) checkAgainstImages(config, { train: MNIST_TRAIN_IMAGES, test: MNIST_TEST_IMAGES }, "MNIST");
      // --backend, else MNIST_BACKEND, else the first of the chain that loads.
      const backend = await initBackend(opts.backend);
      const active = backend.candidates.find((c) => c.active);
      process.stdout.write(`Backend: ${backend.active}${active ? ` (${active.reason})` : ""}\n`);
      const data = await loadMnist({ dataDir, dataDirName: "--data-dir", verifyChecksums: opts.verify });
      if (!opts.verify) checkAgainstImages(config, { train: data.train.count, test: data.test.count }, data.sourceDir);
      let run: RunResult;
      try {
        run = await trainRun(config, { data, runsDir, retrain: opts.retrain, loadModel: false, ...terminalTraining });
      } catch (err) {
        const code = err instanceof MnistLabError ? fsErrorCode(err.cause) : undefined;
        if (code !== "ENOSPC" && code !== "EDQUOT") throw err;
        throw new MnistLabError(
          `${(err as Error).message}; free space and run this command again: the run resumes from its last checkpoint`,
          { cause: err },
        );
      }
      const m = run.metrics;
      const summary = {
        runId: run.runId,
        runDir: run.runDir,
        status: run.status,
        optimizer: m.optimizer,
        epochs: m.epochs,
        epochsCompleted: m.epochsCompleted,
        resumedFromEpoch: run.resumedFromEpoch,
        valAccuracy: m.valAccuracy,
        valLoss: m.valLoss,
        bestValAccuracy: m.bestValAccuracy,
        bestEpoch: m.bestEpoch,
        trainAccuracy: m.trainAccuracy,
        trainLoss: m.trainLoss,
        finalLearningRate: m.finalLearningRate,
        secondsPerEpoch: m.secondsPerEpoch,
        backend: backend.active,
        backends: m.backends,
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else {
        process.stdout.write(
          `${run.runId}: val_accuracy ${m.valAccuracy.toFixed(4)}, val_loss ${m.valLoss.toFixed(4)} after ${m.epochsCompleted} epochs ` +
            `(${m.secondsPerEpoch.toFixed(1)} s/epoch on ${m.backends.join(", ")}) in ${run.runDir}\n`,
        );
      }
    });
}
