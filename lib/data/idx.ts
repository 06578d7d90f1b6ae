import { gunzipSync } from "node:zlib";
import { MnistLabError } from "../shared/errors";

/** IDX magic numbers: 0x0000 08 (unsigned byte) then the number of dimensions. */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

/** A parsed IDX file of unsigned bytes. */
export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  shape: number[];
  /** The values, row-major; a view into the file's buffer (no copy). */
  data: Uint8Array;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Whether the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Decompresses gzip bytes; raw bytes pass through. `file` names the source in errors. */
export function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new MnistLabError(`Expected a valid gzip stream in ${file} but decompressing failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Parses an IDX file of unsigned bytes and checks it against what the caller expects.
 * @param bytes the file's contents, raw (not gzip)
 * @param file the path, for error messages
 * @param expectedMagic 2051 for images, 2049 for labels
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  if (bytes.length === 0) throw new MnistLabError(`Expected an IDX file in ${file} but found an empty file`);
  if (bytes.length < 4) {
    throw new MnistLabError(`Expected a 4-byte IDX magic number in ${file} but found only ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new MnistLabError(
      `Expected ${expectedMagic} (${magicName(expectedMagic)} magic) in ${file} ` +
        `but found ${magic}${magicName(magic) ? ` (${magicName(magic)} magic)` : ""}`,
    );
  }
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new MnistLabError(
      `Expected a ${headerBytes}-byte IDX header (${rank} dimensions) in ${file} but the file has only ${bytes.length} bytes`,
    );
  }
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const expectedBytes = headerBytes + shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== expectedBytes) {
    const what = bytes.length < expectedBytes ? "truncated" : "longer than its header says";
    throw new MnistLabError(
      `Expected ${expectedBytes} bytes in ${file} (header [${shape.join(", ")}]) but found ${bytes.length}: the file is ${what}`,
    );
  }
  // A plain Uint8Array view even when `bytes` is a Buffer: consumers such as polars reject Buffers.
  return { shape, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, bytes.length - headerBytes) };
}

/** Encodes an IDX file of unsigned bytes: the inverse of parseIdx (used by tests and for exporting data). */
export function encodeIdx(magic: number, shape: number[], data: Uint8Array): Uint8Array {
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  out[3] = shape.length; // the rank lives in the magic's last byte
  shape.forEach((n, d) => view.setUint32(4 + 4 * d, n, false));
  out.set(data, headerBytes);
  return out;
}

function magicName(magic: number): string {
  return magic === IDX_IMAGES_MAGIC ? "images" : magic === IDX_LABELS_MAGIC ? "labels" : "";
}
