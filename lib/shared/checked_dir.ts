import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { replaceDirAtomic, writeDirAtomic } from "./atomic_file";
import { MnistLabError } from "./errors";

/** The manifest every checked directory carries: `{ "<file>": "<sha256 hex>" }`. */
export const CHECKSUMS_FILE = "checksums.json";

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Writes `files` into a new directory `target` together with their SHA-256s (as TensorFlow's checkpoint
 * bundles carry a CRC per tensor), all at once by rename. `replace: true` replaces an existing `target` only once
 * the new one is complete (replaceDirAtomic): a full disk or a kill leaves the old one, never a mixed one.
 */
export async function writeCheckedDir(
  target: string,
  files: Record<string, string | Uint8Array>,
  options: { replace?: boolean } = {},
): Promise<void> {
  const sums: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) sums[name] = sha256(data);
  const all = { ...files, [CHECKSUMS_FILE]: JSON.stringify(sums, null, 1) };
  await (options.replace ? replaceDirAtomic(target, all) : writeDirAtomic(target, all));
}

/** Thrown when a checked directory's file is missing or its bytes differ from the checksum written with it. */
export class DamagedFileError extends MnistLabError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`Expected ${file} ${detail}`);
    this.name = "DamagedFileError";
  }
}

/**
 * Reads every file listed in `dir/checksums.json` and checks it; throws {@link DamagedFileError} naming the
 * first file that is missing or differs. `optional: true` accepts a directory without a manifest (a model
 * exported elsewhere) and returns null for it.
 */
export function readCheckedDir(dir: string, options: { optional?: boolean } = {}): Map<string, Buffer> | null {
  const manifestFile = path.join(dir, CHECKSUMS_FILE);
  if (!fs.existsSync(manifestFile)) {
    if (options.optional) return null;
    throw new DamagedFileError(manifestFile, "to list the checksums of the directory's files but it does not exist");
  }
  let sums: Record<string, string>;
  try {
    sums = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Record<string, string>;
  } catch (err) {
    throw new DamagedFileError(manifestFile, `to be JSON but it is not (${(err as Error).message})`);
  }
  if (!sums || typeof sums !== "object" || Object.values(sums).some((v) => typeof v !== "string")) {
    throw new DamagedFileError(manifestFile, "to map file names to SHA-256s but it does not");
  }
  const contents = new Map<string, Buffer>();
  for (const [name, expected] of Object.entries(sums)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new DamagedFileError(file, "to exist (it is listed in checksums.json) but it does not");
    const data = fs.readFileSync(file);
    const found = sha256(data);
    if (found !== expected) {
      throw new DamagedFileError(
        file,
        `to have SHA-256 ${expected} (as checksums.json says) but found ${found}: the file or checksums.json is damaged`,
      );
    }
    contents.set(name, data);
  }
  return contents;
}
