// mixed_bfloat16: the onednn backend's convolutions in bf16 (inputs and weights rounded, f32 accumulation and outputs)
// on CPUs with AVX512_BF16 or AMX; a clear refusal elsewhere; a run config that names it only when asked for, and a
// run that trains in it and leaves the backend in float32 afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  loadNativeBinding,
  OnednnBackend,
  onednnHasBf16,
  projectRoot,
  recipeOf,
  resolveTrainConfig,
  runIdFor,
  setConvPrecision,
  sweepEntries,
  trainRun,
  type ConvPrecision,
} from "mnist-lab";
import { onednnReady, rand } from "./backend_helpers";
import { syntheticDigits, tempDir } from "./helpers/train_fixtures";

async function onednn(): Promise<OnednnBackend> {
  await onednnReady();
  await tf.setBackend("onednn");
  return tf.backend() as OnednnBackend;
}

const addon = loadNativeBinding().binding;
const skipWithoutBf16 = { skip: !(addon && onednnHasBf16(addon.info().isa)) && "this CPU's oneDNN kernels have no AVX512_BF16 or AMX" };

/** ‖a − b‖ / ‖b‖. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** The three passes of a conv of the report's second-block shape, computed under `precision`. */
function convPasses(precision: ConvPrecision): Float32Array[] {
  const previous = setConvPrecision(precision);
  try {
    return tf.tidy(() => {
      const x = rand([4, 10, 10, 64], 1) as tf.Tensor4D;
      const f = tf.mul(rand([5, 5, 64, 64], 2), 0.1) as tf.Tensor4D;
      const dy = rand([4, 6, 6, 64], 3) as tf.Tensor4D;
      const y = tf.conv2d(x, f, 1, "valid");
      const attrs = { strides: [1, 1], pad: "valid", dataFormat: "NHWC", dimRoundingMode: undefined };
      const dx = tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: f }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor;
      const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { ...attrs, filterShape: f.shape } as never) as tf.Tensor;
      return [y, dx, dw].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    setConvPrecision(previous);
  }
}

test(
  "bfloat16 convolutions: forward, backward-data and backward-filter within bf16's rounding of float32, never equal to it",
  skipWithoutBf16,
  async () => {
    await onednn();
    const exact = convPasses("float32");
    const bf16 = convPasses("bfloat16");
    ["forward", "backward-data", "backward-filter"].forEach((pass, i) => {
      const e = relativeError(bf16[i], exact[i]);
      // bf16 keeps 8 significant bits (relative rounding ≤ 2^-9 per operand): a few thousandths over a 1,600-term sum.
      // Zero would mean the float32 kernel ran, so the bf16 path was never taken.
      assert.ok(e > 1e-4 && e < 1e-2, `${pass}: relative error ${e}`);
    });
  },
);

test("bfloat16 is refused where oneDNN has no bf16 kernels (capped to AVX2 here) and on another backend", async () => {
  const script = [
    `const lab = require(${JSON.stringify(path.join(projectRoot(), "dist", "lib", "index.js"))});`,
    "lab.initBackend('onednn')",
    "  .then(() => lab.setConvPrecision('bfloat16'))",
    "  .then(() => console.log('accepted'), (e) => console.log(e.message));",
  ].join("\n");
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ONEDNN_MAX_CPU_ISA: "AVX2" } });
  assert.match(
    r.stdout,
    new RegExp(
      "^Expected a CPU with AVX512_BF16 or AMX for mixed_bfloat16 but found .+ " +
        "\\(oneDNN dispatches to avx2 without bf16, ONEDNN_MAX_CPU_ISA=AVX2\\); train in float32 \\(leave --precision out\\)\n$",
    ),
    r.stderr,
  );
  await tf.setBackend("cpu");
  try {
    assert.throws(
      () => setConvPrecision("bfloat16"),
      /^MnistLabError: Expected the onednn backend for bfloat16 convolutions but the active backend is cpu$/,
    );
    assert.equal(setConvPrecision("float32"), "float32");
  } finally {
    await onednn();
  }
});

test("a run's config names mixed_bfloat16 only when asked for, so float32 runs keep their ids", () => {
  const plain = resolveTrainConfig({ optimizer: "adam" });
  assert.equal("precision" in plain, false);
  const mixed = resolveTrainConfig({ optimizer: "adam", precision: "mixed_bfloat16" });
  assert.equal(mixed.precision, "mixed_bfloat16");
  assert.notEqual(runIdFor(mixed), runIdFor(plain));
  // A sweep asked for it trains runs of their own, which form their own group in results/.
  const spec = { optimizers: ["adam" as const], seeds: [1], schedule: "as-run" as const, profile: "full" as const };
  const [bf16Entry] = sweepEntries({ ...spec, precision: "mixed_bfloat16" });
  assert.equal(bf16Entry.config.precision, "mixed_bfloat16");
  assert.notEqual(bf16Entry.runId, sweepEntries(spec)[0].runId);
  assert.equal(recipeOf(resolveTrainConfig(bf16Entry.config)), "as-run, mixed_bfloat16");
  assert.equal(recipeOf(plain), "as-run");
  assert.throws(
    () => resolveTrainConfig({ optimizer: "adam", precision: "bfloat16" as never }),
    /Expected "mixed_bfloat16" \(float32 is the default: leave it out\) for precision but found "bfloat16"/,
  );
});

test("trainRun under mixed_bfloat16 trains in bf16, records it, and leaves the backend in float32", skipWithoutBf16, async () => {
  const backend = await onednn();
  const data = { train: syntheticDigits(200, 1), test: syntheticDigits(120, 2) };
  const base = { optimizer: "rmsprop", epochs: 1, batchSize: 86, trainLimit: 172, validationLimit: 100 } as const;
  const options = { data, log: () => undefined, backend: "onednn", loadModel: false };
  const mixed = await trainRun({ ...base, precision: "mixed_bfloat16" }, { ...options, runsDir: tempDir() });
  const plain = await trainRun(base, { ...options, runsDir: tempDir() });
  assert.equal(backend.convPrecision, "float32");
  assert.equal(mixed.config.precision, "mixed_bfloat16");
  assert.ok(Number.isFinite(mixed.history[0].loss));
  // Same seed, data and batches: only the convolutions' rounding differs, and it shows in the loss.
  assert.notEqual(mixed.history[0].loss, plain.history[0].loss);
  assert.ok(
    Math.abs(mixed.history[0].loss - plain.history[0].loss) < 0.05 * plain.history[0].loss,
    `${mixed.history[0].loss} vs ${plain.history[0].loss}`,
  );
});
