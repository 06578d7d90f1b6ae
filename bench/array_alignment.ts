// Why the onednn backend's pool lays its views on cache lines: the training step's BatchNorm kernels (the addon's
// batchNormReluTrain and batchNormReluGrad, at the report's first two layers' sizes) on arrays that start on a
// 64-byte line against the same arrays 16 bytes off one (where a plain ArrayBuffer may start), alternating.
// Usage: npm run -s build && node dist/bench/array_alignment.js [repeats] — prints a table and one JSON line.
import { loadNativeBinding, machineInfo, type NativeBinding } from "../lib";

const CHANNELS = 64;
const LINE = 64;

/** A Float32Array of `size` elements at `skew` bytes past a cache line of a fresh buffer, filled from `fill`. */
function arrayAt(native: NativeBinding, size: number, skew: number, fill: (i: number) => number): Float32Array {
  const buffer = new ArrayBuffer(size * 4 + 2 * LINE);
  const array = new Float32Array(buffer, native.alignmentOffset(buffer, LINE) + skew, size);
  for (let i = 0; i < size; i++) array[i] = fill(i);
  return array;
}

/** Mean milliseconds of one call of `f` over `repeats` calls, after a few unmeasured ones. */
function time(f: () => void, repeats: number): number {
  for (let i = 0; i < 5; i++) f();
  const started = performance.now();
  for (let i = 0; i < repeats; i++) f();
  return (performance.now() - started) / repeats;
}

function main(): void {
  const repeats = Number(process.argv[2] ?? 200);
  const { binding: native, error } = loadNativeBinding();
  if (!native) throw new Error(`Expected the addon to load but ${error}`);
  process.stdout.write(`${machineInfo().cpu}; ${native.info().isa}; mean of ${repeats} calls, aligned and skewed in turn\n`);
  const rows: Array<{ layer: string; kernel: string; alignedMs: number; skewedMs: number }> = [];
  // [images, height, width, pooled after]: the report's conv 1 (24×24) and conv 2 (20×20, then the 2×2 pool).
  for (const [n, h, w, pooled] of [
    [86, 24, 24, false],
    [86, 20, 20, true],
  ] as const) {
    const size = n * h * w * CHANNELS;
    const outSize = pooled ? size / 4 : size;
    const kernels = [0, 16].map((skew) => {
      const z = arrayAt(native, size, skew, (i) => ((i * 7919) % 1000) / 1000 - 0.3);
      const dy = arrayAt(native, outSize, skew, (i) => ((i * 104729) % 1000) / 1000 - 0.5);
      const y = arrayAt(native, outSize, skew, () => 0);
      const dz = arrayAt(native, size, skew, () => 0);
      const param = (v: number) => new Float32Array(CHANNELS).fill(v);
      const [mean, variance] = [param(0.2), param(1)];
      const at = pooled ? new Int32Array(outSize) : null;
      const train = () =>
        native.batchNormReluTrain(z, param(1), param(0), param(0), param(1), y, mean, variance, param(0), param(0), 1e-3, 0.99, at, h, w);
      const grad = () => native.batchNormReluGrad(dy, z, mean, variance, param(1), dz, param(0), param(0), param(0), 1e-3, at, h, w);
      return { train, grad };
    });
    for (const kernel of ["train", "grad"] as const) {
      let aligned = 0;
      let skewed = 0;
      for (let round = 0; round < 4; round++) {
        aligned += time(kernels[0][kernel], repeats / 4);
        skewed += time(kernels[1][kernel], repeats / 4);
      }
      rows.push({ layer: `${n}×${h}×${w}×${CHANNELS}${pooled ? " + pool" : ""}`, kernel, alignedMs: aligned / 4, skewedMs: skewed / 4 });
    }
  }
  for (const r of rows) {
    process.stdout.write(
      `  ${r.layer.padEnd(20)} ${r.kernel.padEnd(6)} aligned ${r.alignedMs.toFixed(3)} ms, 16 bytes off ${r.skewedMs.toFixed(3)} ms ` +
        `(${(r.skewedMs / r.alignedMs).toFixed(2)}×)\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ machine: machineInfo(), isa: native.info().isa, repeats, rows })}\n`);
}

main();
