import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeDirs } from "./atomic_file";
import { processAlive } from "./child_process";
import { MnistLabError, fsErrorCode, fsErrorReason } from "./errors";

/** The lock file's name inside a run directory: one writer per run, on one machine or across a cluster. */
export const RUN_LOCK_FILE = ".lock";

/** Thrown when another live process holds a run: a sweep moves on to the runs nobody holds. */
export class RunBusyError extends MnistLabError {
  constructor(message: string) {
    super(message);
    this.name = "RunBusyError";
  }
}

// The run lock. Removing a dead owner's lock and then creating one's own are two steps, so "remove if stale, then
// create" let a second racer remove the lock the first had just created (issue 10). Here a lock is `<pid> <token>`
// and appears whole (written beside, then link()ed, which fails if the name exists). A stale lock may be removed
// only by the one process that creates `<lock>.takeover-<token>-<n>` with O_EXCL, and only after reading that the
// lock still holds that token; tokens never repeat, so a racer acting on an old view finds another token and
// removes nothing. Plain POSIX calls, no flock(): those are advisory, per-descriptor and unreliable on NFS.
// On shared storage (a cluster's runs directory) a lock names its host too: a pid means nothing on another
// machine, so there the holder's heartbeat (the lock's mtime, renewed every LOCK_HEARTBEAT_MS) tells it is alive.

/** Locks this process holds (real path → token): meeting one again is a re-entry (a re-run notebook cell), not a stale lock. */
const heldLocks = new Map<string, string>();
/** Takeover markers and lock temp files younger than this stay: a racer paused after reading a lock must still find them. */
const LOCK_LEFTOVER_MAX_AGE_MS = 60 * 60 * 1000;
/** An unreadable lock this young may still be being written (only where link() is missing); older, it is stale. */
const LOCK_WRITE_GRACE_MS = 10_000;
/** How often a holder renews its lock's mtime, and how old a foreign host's lock must be to count as stale. */
const LOCK_HEARTBEAT_MS = 60_000;
export const LOCK_FOREIGN_STALE_MS = 10 * LOCK_HEARTBEAT_MS;
const THIS_HOST = os.hostname();
/** link() errors of file systems without hard links (FAT, some network mounts). */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

interface LockHolder {
  /** Null when the file is neither `<pid> <token> [host]` nor the older `<pid>` (damaged, or still being written). */
  pid: number | null;
  /** The holder's host; absent in locks written before hosts were recorded (those were all local). */
  host?: string;
  /** Names this lock file and no other: its token, else its inode, mtime and size. */
  id: string;
  ageMs: number;
}

/** Reads a lock or takeover marker; undefined when there is none (any more). */
function readLockHolder(file: string): LockHolder | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if (fsErrorCode(err) === "ENOENT") return undefined;
    throw err;
  }
  try {
    // stat and content from one descriptor describe one file, even if the name is replaced meanwhile.
    const stat = fs.fstatSync(fd);
    const text = fs.readFileSync(fd, "utf8");
    const ageMs = Date.now() - stat.mtimeMs;
    const current = /^(\d+) ([0-9a-f]{32})(?: (\S+))?\n?$/.exec(text);
    if (current) return { pid: Number(current[1]), id: current[2], host: current[3], ageMs };
    const legacy = /^(\d+)\n?$/.exec(text); // what lockRun wrote before tokens
    return { pid: legacy ? Number(legacy[1]) : null, id: `i${stat.ino}-m${Math.floor(stat.mtimeMs)}-s${stat.size}`, ageMs };
  } finally {
    fs.closeSync(fd);
  }
}

function lockHolderMayBeAlive(holder: LockHolder): boolean {
  if (holder.pid === null) return holder.ageMs < LOCK_WRITE_GRACE_MS;
  if (holder.host !== undefined && holder.host !== THIS_HOST) return holder.ageMs < LOCK_FOREIGN_STALE_MS;
  // Our pid in a lock this process does not hold was left by an earlier process that had it (pids repeat, in
  // containers often). Worker threads of this process would look the same: train from one thread only.
  if (holder.pid === process.pid) return false;
  return processAlive(holder.pid);
}

/** Creates `file` holding `content`, complete from its first moment; false when the name is taken. */
function createWhole(file: string, content: string): boolean {
  const temp = `${file}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
  fs.writeFileSync(temp, content, { flag: "wx" });
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if (fsErrorCode(err) === "EEXIST") return false;
    if (!NO_HARD_LINKS.has(fsErrorCode(err) ?? "")) throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  // Without hard links the file exists empty for a moment: readers give a young unreadable lock time.
  try {
    fs.writeFileSync(file, content, { flag: "wx" });
    return true;
  } catch (err) {
    if (fsErrorCode(err) === "EEXIST") return false;
    throw err;
  }
}

/** Makes this process the only one that may remove the stale lock `id`; false when a live process already may. */
function claimTakeover(lock: string, id: string, token: string): boolean {
  // A claimant that died before finishing leaves its marker; the next generation is then free to claim.
  for (let generation = 1; generation <= 100; generation++) {
    const marker = `${lock}.takeover-${id}-${generation}`;
    if (createWhole(marker, `${process.pid} ${token}\n`)) return true;
    const claimant = readLockHolder(marker);
    if (claimant && lockHolderMayBeAlive(claimant)) return false;
  }
  return false;
}

/** Removes takeover markers and lock temp files older than LOCK_LEFTOVER_MAX_AGE_MS (called by the lock's holder). */
function removeOldLockLeftovers(dir: string): void {
  try {
    for (const name of fs.readdirSync(dir)) {
      if (!name.startsWith(`${RUN_LOCK_FILE}.`)) continue;
      const file = path.join(dir, name);
      if (Date.now() - fs.lstatSync(file).mtimeMs > LOCK_LEFTOVER_MAX_AGE_MS) fs.rmSync(file, { force: true });
    }
  } catch {
    // Leftovers only cost a directory entry; failing to tidy them must not fail the run.
  }
}

function releaseLock(lock: string, token: string, heartbeat: NodeJS.Timeout): void {
  clearInterval(heartbeat);
  if (heldLocks.get(lock) !== token) return;
  heldLocks.delete(lock);
  try {
    // Only our own lock goes: one replaced meanwhile (removed by hand, then taken) belongs to another process.
    if (readLockHolder(lock)?.id === token) fs.rmSync(lock, { force: true });
  } catch {
    // Left behind, the lock names a dead pid and the next run takes it over; an error here would hide the run's own.
  }
}

/** The one wording for a run this process trains already (a re-run notebook cell): the lock and the fit loop both say it. */
export function alreadyTrainingHere(run: string): MnistLabError {
  return new MnistLabError(
    `Expected run ${run} to be free but this process is training it already (a cell still running?): ` +
      "interrupt that cell (Kernel › Interrupt) or wait for it to finish",
  );
}

/** Renews the mtime of our own lock, so another host sees its holder alive. */
function renewLock(lock: string, token: string): void {
  try {
    if (readLockHolder(lock)?.id === token) fs.utimesSync(lock, new Date(), new Date());
  } catch {
    // A missed heartbeat only brings the takeover closer; it must not fail the run.
  }
}

/** mkdir -p of the run directory; returns its real path, so one run has one registry key however it is named. */
function makeRunDir(runDir: string): string {
  let real: string;
  try {
    makeDirs(runDir);
    real = fs.realpathSync(runDir);
  } catch (err) {
    if (fsErrorCode(err) === undefined) throw err;
    throw new MnistLabError(`Expected ${runDir} to be a writable run directory but ${fsErrorReason(err)}`, { cause: err });
  }
  if (!fs.statSync(real).isDirectory()) throw new MnistLabError(`Expected ${runDir} to be a writable run directory but it is a file`);
  return real;
}

/**
 * Takes the run's lock file so two processes never train the same run; a lock left by a killed process (its pid
 * is gone, or, from another host, its heartbeat stopped LOCK_FOREIGN_STALE_MS ago) is taken over, by exactly one
 * of any number of racers. A lock this process already holds is refused:
 * it means the run is being trained by this process (e.g. a notebook cell still running). Returns the release function.
 */
export function lockRun(runDir: string): () => void {
  const dir = makeRunDir(runDir);
  const lock = path.join(dir, RUN_LOCK_FILE);
  if (heldLocks.has(lock)) {
    throw alreadyTrainingHere(runDir);
  }
  const token = randomBytes(16).toString("hex");
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      if (createWhole(lock, `${process.pid} ${token} ${THIS_HOST}\n`)) {
        heldLocks.set(lock, token);
        removeOldLockLeftovers(dir);
        const heartbeat = setInterval(() => renewLock(lock, token), LOCK_HEARTBEAT_MS).unref();
        return () => releaseLock(lock, token, heartbeat);
      }
      const holder = readLockHolder(lock);
      if (!holder) continue; // released meanwhile
      if (lockHolderMayBeAlive(holder)) {
        const where = holder.host !== undefined && holder.host !== THIS_HOST ? ` on ${holder.host}` : "";
        const who = holder.pid === null ? "another process is taking it" : `process ${holder.pid}${where} is training it`;
        throw new RunBusyError(`Expected run ${runDir} to be free but ${who} (lock ${lock})`);
      }
      if (!claimTakeover(lock, holder.id, token)) {
        throw new RunBusyError(`Expected run ${runDir} to be free but another process is taking over its stale lock ${lock}`);
      }
      if (readLockHolder(lock)?.id === holder.id) fs.rmSync(lock, { force: true });
    }
  } catch (err) {
    if (err instanceof MnistLabError || fsErrorCode(err) === undefined) throw err;
    throw new MnistLabError(`Expected to take the lock ${lock} but ${fsErrorReason(err)}`, { cause: err });
  }
  throw new MnistLabError(`Expected to take the lock ${lock} but other processes kept taking it`);
}
