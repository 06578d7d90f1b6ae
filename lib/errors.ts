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
