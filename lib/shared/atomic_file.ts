import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { MnistLabError, fsErrorCode, fsErrorReason } from "./errors";

/** Errors of the disk rather than of the program: reported as one line naming the file, not as a raw errno. */
const DISK_ERROR_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM"]);

/**
 * Turns a disk error met while replacing `target` into a one-line MnistLabError that names it and says what
 * survives (the write goes to a temp file first, so a failure never touches the existing `target`).
 */
function diskWriteError(err: unknown, target: string): unknown {
  if (!DISK_ERROR_CODES.has(fsErrorCode(err) ?? "")) return err;
  const survives = fs.existsSync(target) ? "its previous version is intact" : "nothing was written in its place";
  return new MnistLabError(`Expected to write ${target} but ${fsErrorReason(err)}; ${survives}`, { cause: err });
}

/** A name next to `target` that no other writer picks: same directory, so rename() stays atomic. */
function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** fsync a directory so a rename inside it survives a power cut, not only a kill. */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAndSync(file: string, data: string | Uint8Array | Uint8Array[], sync = true): Promise<void> {
  const handle = await fs.promises.open(file, "w");
  try {
    // Each writeFile continues where the last one stopped, and writes all of its part.
    for (const part of Array.isArray(data) ? data : [data]) await handle.writeFile(part);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `target` with `data` (or its parts, one after another) so that a reader (or a process killed
 * mid-write) sees either the old file or the new one, never a mix: write a temp file beside it, fsync, rename
 * over, fsync the directory. `sync: false` skips both fsyncs, for caches that can be rebuilt after a power cut.
 *
 * @example
 * await writeFileAtomic("runs/x/metrics.json", JSON.stringify(metrics));
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array | Uint8Array[],
  options: { sync?: boolean } = {},
): Promise<void> {
  const sync = options.sync ?? true;
  const temp = tempSibling(target);
  try {
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await writeAndSync(temp, data, sync);
    await fs.promises.rename(temp, target);
  } catch (err) {
    await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    throw diskWriteError(err, target);
  }
  if (sync) await fsyncDir(path.dirname(target));
}

/**
 * writeFileAtomic for the moments nothing may wait (a signal handler while the process goes down): the same temp
 * file and rename, synchronously, without fsync.
 */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const temp = tempSibling(target);
  try {
    fs.writeFileSync(temp, data);
    fs.renameSync(temp, target);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw diskWriteError(err, target);
  }
}

/**
 * Creates directory `target` holding `files` (name → contents) all at once: the files go into a temp
 * directory that is renamed to `target` only when complete. `target` must not exist yet.
 */
export async function writeDirAtomic(target: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const temp = await writeTempDir(target, files);
  try {
    await fs.promises.rename(temp, target);
  } catch (err) {
    await fs.promises.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw diskWriteError(err, target);
  }
  await fsyncDir(path.dirname(target));
}

/** Writes `files` into a complete, synced temp sibling of `target` and returns it; errors name `target`. */
async function writeTempDir(target: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const temp = tempSibling(target);
  try {
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.mkdir(temp);
    for (const [name, data] of Object.entries(files)) await writeAndSync(path.join(temp, name), data);
    await fsyncDir(temp);
    return temp;
  } catch (err) {
    await fs.promises.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw diskWriteError(err, target);
  }
}

/**
 * Replaces directory `target` (or creates it) with `files`, keeping the old one until the new one is complete: the
 * new directory is written aside, then the old one moves aside and the new one takes its name, then the old goes.
 * A failure while writing (a full disk) leaves the old directory as it was.
 */
export async function replaceDirAtomic(target: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const fresh = await writeTempDir(target, files);
  const old = fs.existsSync(target) ? tempSibling(target) : undefined;
  try {
    if (old) await fs.promises.rename(target, old);
    await fs.promises.rename(fresh, target);
  } catch (err) {
    if (old && !fs.existsSync(target)) await fs.promises.rename(old, target).catch(() => undefined);
    await fs.promises.rm(fresh, { recursive: true, force: true }).catch(() => undefined);
    throw diskWriteError(err, target);
  }
  await fsyncDir(path.dirname(target));
  if (old) await fs.promises.rm(old, { recursive: true, force: true });
}

/**
 * mkdir -p, one level at a time: Node 20's `mkdirSync(dir, { recursive: true })` loops forever where mkdir fails
 * with ENOENT under an existing parent (e.g. under /proc). Throws the first mkdir error but EEXIST.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); !fs.existsSync(p); p = path.dirname(p)) {
    missing.push(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      fs.mkdirSync(p);
    } catch (err) {
      if (fsErrorCode(err) !== "EEXIST") throw err;
    }
  }
}

/** Removes temp files and directories that a killed writer left in `dir` (names from {@link writeFileAtomic}). */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => /^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(n))
      .map((n) => fs.promises.rm(path.join(dir, n), { recursive: true, force: true })),
  );
}
