/** Errors that carry a message meant for the user: the CLI prints only the message (no stack) unless --debug. */
export class MnistLabError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MnistLabError";
  }
}

/** `Expected <expected> for <name> but found <actual>`: the shape of every parameter error in the project. */
export function invalidParameterError(name: string, expected: string, actual: unknown): MnistLabError {
  return new MnistLabError(`Expected ${expected} for ${name} but found ${describeValue(actual)}`);
}

/** A short, unambiguous rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "Object"})`;
  return `${typeof value} ${String(value)}`;
}

/** What an errno code means for a file the user named, in words: `the disk is full (ENOSPC)`. */
const FS_ERROR_REASONS: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EROFS: "the file system is read-only",
  EACCES: "permission was denied",
  EPERM: "the operation was not permitted",
  ENOTDIR: "a part of the path is a file, not a directory",
  EEXIST: "a file of that name is in the way",
  ENOENT: "a part of the path does not exist",
  ENAMETOOLONG: "a name in the path is too long",
};

/** The errno code of a Node file-system error, or undefined for anything else. */
export function fsErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A file-system error as a clause for a one-line message, e.g. `the disk is full (ENOSPC)`. */
export function fsErrorReason(err: unknown): string {
  const code = fsErrorCode(err);
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  return `${FS_ERROR_REASONS[code] ?? "the file system refused"} (${code})`;
}
