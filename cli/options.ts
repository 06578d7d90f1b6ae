// The command-line values every command checks the same way: each bad value is one line naming the flag, what was
// expected and what was found, thrown as a UsageError that main() prints and exits 2 on.
import * as fs from "node:fs";
import * as path from "node:path";
import { BACKEND_CHAIN, fsErrorCode, fsErrorReason, makeDirs } from "../lib";

/** A bad command-line value: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Outputs of the report's CNN per image (the recipe's padding, 64 filters; the sum over buildReportCnn's 19 layers), float32. */
const REPORT_CNN_OUTPUT_BYTES_PER_IMAGE = 146_442 * 4;

/**
 * The largest batch the CLI accepts: tfjs keeps every layer's output for the whole batch until the backward pass,
 * so 4096 images already hold 2.2 GiB before gradients and optimizer temporaries.
 */
export const MAX_BATCH_SIZE = 4096;

/** Refuses a `--batch-size` above the images it would batch (`images`, named by `of`) or above MAX_BATCH_SIZE, saying why. */
export function checkBatchSize(flag: string, batchSize: number | undefined, images: number, of: string): void {
  if (batchSize === undefined) return;
  if (batchSize > images) throw new UsageError(`Expected ${flag} to be at most ${images} (${of}) but found ${batchSize}`);
  if (batchSize > MAX_BATCH_SIZE) {
    const mib = REPORT_CNN_OUTPUT_BYTES_PER_IMAGE / 2 ** 20;
    throw new UsageError(
      `Expected ${flag} to be at most ${MAX_BATCH_SIZE} but found ${batchSize}: training holds every layer's output for the whole batch ` +
        `(${mib.toFixed(2)} MiB an image with the report's CNN), ` +
        `so ${batchSize} images need ${((batchSize * mib) / 1024).toFixed(1)} GiB before gradients`,
    );
  }
}

/** `--data-dir` must name an existing directory: checked before anything loads, so a typo is a usage error (exit 2). */
export function existingDirOption(flag: string, dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  const resolved = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch (err) {
    throw new UsageError(
      `Expected ${flag} ${resolved} to be a directory but ${fsErrorCode(err) === "ENOENT" ? "it does not exist" : fsErrorReason(err)}`,
    );
  }
  if (!stat.isDirectory()) throw new UsageError(`Expected ${flag} ${resolved} to be a directory but it is a file`);
  return resolved;
}

/** Why mkdir -p and a write check of `dir` failed with `err`, as a clause: names the file in the way, if any. */
function whyNotWritable(dir: string, err: unknown): string {
  let existing = dir;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory()) return existing === dir ? "it is a file" : `${existing} is a file`;
  if (existing === dir) return fsErrorReason(err);
  // mkdir says ENOENT under an existing parent where nothing may be made (e.g. /proc): "a part does not exist" would mislead.
  return `it cannot be made in ${existing}${fsErrorCode(err) === "ENOENT" ? " (ENOENT)" : `: ${fsErrorReason(err)}`}`;
}

/** What `--backend` accepts: a backend of the chain, or the first that loads. */
export const BACKEND_CHOICES = ["auto", ...BACKEND_CHAIN] as const;
export const BACKEND_HELP = `tfjs backend: ${BACKEND_CHOICES.join(", ")} (default: $MNIST_BACKEND, else the first that loads)`;

/**
 * `value` as an integer in [min, max] (min ≥ 0): decimal digits only, so `-1`, `1e3`, `0x10`, `8.5` and `""` are
 * refused with a one-line usage error naming the flag, the range and what was found.
 */
export function integerOption(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\+?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`Expected ${flag} to be ${range} but found ${JSON.stringify(value)}`);
  }
  return n;
}

/** `value` when it is one of `choices`; otherwise a one-line usage error naming the flag, the choices and what was found. */
export function choiceOption<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`Expected ${flag} to be one of ${choices.join(", ")} but found ${JSON.stringify(value)}`);
}

/**
 * Makes `dir` (mkdir -p) and checks that it is writable, so a runs directory on a file or a read-only mount is
 * one line naming it (exit 2) before the backend and the data load, not a raw ENOTDIR at the first checkpoint.
 */
export function writableDirOption(flag: string, dir: string): string {
  const resolved = path.resolve(dir);
  try {
    makeDirs(resolved);
    if (!fs.statSync(resolved).isDirectory()) throw new Error("not a directory");
    fs.accessSync(resolved, fs.constants.W_OK);
  } catch (err) {
    throw new UsageError(`Expected ${flag} ${resolved} to be a writable directory but ${whyNotWritable(resolved, err)}`);
  }
  return resolved;
}
