// Bad input never takes the process down: the addon throws JS errors, and tfjs ops on the onednn backend
// either throw like on cpu or give cpu's result.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  NATIVE_FUNCTION_NAMES,
  checkNativeEnums,
  checkNativeFunctions,
  loadNativeBinding,
  type ConvGeometry,
  type KerasAdamUpdateAttrs,
  type KerasRmspropUpdateAttrs,
  type MatMulGeometry,
  type NativeBinding,
  type PoolGeometry,
} from "mnist-lab";
import { assertMatchesCpu, onednnReady, rand, runOn } from "./backend_helpers";

function native(): NativeBinding {
  const { binding, error } = loadNativeBinding();
  if (!binding) throw new Error(`Expected the addon to load but ${error}`);
  return binding;
}

const CONV: ConvGeometry = {
  batchSize: 1,
  inHeight: 5,
  inWidth: 5,
  inChannels: 2,
  outHeight: 3,
  outWidth: 3,
  outChannels: 4,
  filterHeight: 3,
  filterWidth: 3,
  strideHeight: 1,
  strideWidth: 1,
  dilationHeight: 1,
  dilationWidth: 1,
  padInfo: { top: 0, left: 0, bottom: 0, right: 0 },
};
const POOL: PoolGeometry = {
  batchSize: 1,
  inHeight: 4,
  inWidth: 4,
  inChannels: 1,
  outHeight: 2,
  outWidth: 2,
  filterHeight: 2,
  filterWidth: 2,
  strideHeight: 2,
  strideWidth: 2,
  padInfo: { top: 0, left: 0 },
};
// a [2, 3] times b [3, 2].
const MATMUL: MatMulGeometry = { batchA: 1, batchB: 1, m: 2, n: 2, k: 3, transposeA: false, transposeB: false };
const RMSPROP: KerasRmspropUpdateAttrs = { learningRate: 0.001, rho: 0.9, oneMinusRho: 0.1, epsilon: 1e-7 };
const ADAM: KerasAdamUpdateAttrs = {
  learningRate: 0.001,
  beta1: 0.9,
  oneMinusBeta1: 0.1,
  beta2: 0.999,
  oneMinusBeta2: 0.001,
  epsilon: 1e-7,
};
const f32 = (n: number) => new Float32Array(n);
const linear = () => native().enums.activation.linear;
const float32 = () => native().enums.convPrecision.float32;

test("addon enums give every name lib/backend uses a code of its own", () => {
  assert.equal(checkNativeEnums(native().enums), null);
  for (const [name, codes] of Object.entries(native().enums)) assert.ok(Object.isFrozen(codes), name);
});
test("checkNativeEnums names the enum, the name, what it expected and what it found", () => {
  const enums = native().enums;
  assert.equal(
    checkNativeEnums({ ...enums, binaryOp: { ...enums.binaryOp, Prelu: undefined } }),
    "Expected the addon's enum binaryOp to give Prelu a non-negative integer code but found undefined",
  );
  assert.equal(
    checkNativeEnums({ ...enums, unaryOp: { ...enums.unaryOp, Relu6: enums.unaryOp.Relu } }),
    `Expected the addon's enum unaryOp to give Relu6 a code of its own but found ${enums.unaryOp.Relu}, Relu's`,
  );
  assert.match(checkNativeEnums({ ...enums, reduceOp: undefined }) ?? "", /enum reduceOp to give Sum .* but found no enum reduceOp/);
  assert.match(checkNativeEnums(undefined) ?? "", /enum activation to give linear/);
});

test("checkNativeFunctions accepts the built addon: it exports exactly NATIVE_FUNCTION_NAMES and enums", () => {
  assert.equal(checkNativeFunctions(native()), null);
});
test("checkNativeFunctions names every missing and extra function in one line", () => {
  const fake: Record<string, unknown> = { enums: {} };
  for (const name of NATIVE_FUNCTION_NAMES) fake[name] = () => undefined;
  assert.equal(checkNativeFunctions(fake), null);
  const { fill: _fill, ...withoutFill } = fake;
  assert.equal(
    checkNativeFunctions(withoutFill),
    `Expected the addon to export the ${NATIVE_FUNCTION_NAMES.length} functions of NATIVE_FUNCTION_NAMES but found missing fill`,
  );
  assert.equal(
    checkNativeFunctions({ ...withoutFill, concat: 1, gelu: () => undefined }),
    `Expected the addon to export the ${NATIVE_FUNCTION_NAMES.length} functions of NATIVE_FUNCTION_NAMES ` +
      "but found missing fill, concat; extra gelu",
  );
  assert.match(checkNativeFunctions(undefined) ?? "", /functions of NATIVE_FUNCTION_NAMES but found none of them$/);
  assert.match(checkNativeFunctions({ name: "mnist-lab" }) ?? "", /but found none of them$/);
});
test("loadNativeBinding refuses an addon that lacks a function, naming it and the fix", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-lab-addon-"));
  try {
    // The real addon's exports less one function, loaded in a fresh process (the loader caches per process).
    const fake = path.join(dir, "fake_addon.js");
    fs.writeFileSync(fake, `const { fill, ...rest } = require(${JSON.stringify(loadNativeBinding().path)}); module.exports = rest;\n`);
    const r = spawnSync(process.execPath, ["-e", 'process.stdout.write(String(require("mnist-lab").loadNativeBinding().error))'], {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, MNIST_ONEDNN_ADDON: fake },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      "the addon does not match lib/backend (rebuild it: npm run build:native): " +
        `Expected the addon to export the ${NATIVE_FUNCTION_NAMES.length} functions of NATIVE_FUNCTION_NAMES but found missing fill`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("addon conv2dForward wrong dtype throws TypeError", () => {
  assert.throws(() => native().conv2dForward(new Int32Array(50) as never, f32(72), null, f32(36), CONV, linear(), 0, float32()), TypeError);
});
test("addon conv2dForward wrong sizes throw RangeError naming the argument", () => {
  assert.throws(
    () => native().conv2dForward(f32(49), f32(72), null, f32(36), CONV, linear(), 0, float32()),
    /Expected 50 elements in x but found 49/,
  );
  assert.throws(() => native().conv2dForward(f32(50), f32(72), f32(3), f32(36), CONV, linear(), 0, float32()), /elements in bias/);
  assert.throws(() => native().conv2dForward(f32(50), f32(72), null, f32(35), CONV, linear(), 0, float32()), RangeError);
});
test("addon conv2d geometry with a missing, negative, zero or inconsistent field throws naming the field", () => {
  const forward = (conv: unknown) => () =>
    native().conv2dForward(f32(50), f32(72), null, f32(36), conv as ConvGeometry, linear(), 0, float32());
  assert.throws(forward([1, 5, 5, 2, 3, 3, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0]), /Expected an object for conv but found an array/);
  assert.throws(forward({ ...CONV, strideHeight: undefined }), { name: "TypeError", message: /conv\.strideHeight but found undefined/ });
  assert.throws(forward({ ...CONV, strideHeight: -1 }), { name: "RangeError", message: /at least 1 for conv\.strideHeight but found -1/ });
  assert.throws(forward({ ...CONV, strideWidth: 0 }), { name: "RangeError", message: /conv\.strideWidth but found 0/ });
  assert.throws(forward({ ...CONV, inChannels: 1.5 }), { name: "RangeError", message: /conv\.inChannels but found 1\.5/ });
  assert.throws(forward({ ...CONV, padInfo: undefined }), { name: "TypeError", message: /object for conv\.padInfo/ });
  assert.throws(forward({ ...CONV, padInfo: { ...CONV.padInfo, right: -1 } }), /conv\.padInfo\.right but found -1/);
  assert.throws(
    () => native().conv2dBackwardData(f32(36), f32(72), f32(50), { ...CONV, outHeight: 4 }, float32()),
    /Expected conv output size 3x3 \(from input, filter, stride and padding\) but found 4x3/,
  );
  assert.throws(() => native().conv2dForward(f32(50), f32(72), null, f32(36), CONV, 9, 0, float32()), /activation code 0\.\.5 but found 9/);
});
test("addon matMul geometry with a missing, negative, fractional or mistyped field throws naming the field", () => {
  const matMul = (geometry: unknown) => () => native().matMul(f32(6), f32(6), f32(4), geometry as MatMulGeometry, null, linear(), 0);
  matMul(MATMUL)();
  assert.throws(matMul([1, 1, 2, 2, 3, false, false]), { name: "TypeError", message: /Expected an object for matMul but found an array/ });
  assert.throws(matMul(undefined), { name: "TypeError", message: /Expected an object for matMul but found undefined/ });
  assert.throws(matMul({ ...MATMUL, k: undefined }), { name: "TypeError", message: /Expected a number for matMul\.k but found undefined/ });
  assert.throws(matMul({ ...MATMUL, batchA: 0 }), { name: "RangeError", message: /at least 1 for matMul\.batchA but found 0/ });
  assert.throws(matMul({ ...MATMUL, batchB: "1" }), { name: "TypeError", message: /number for matMul\.batchB but found a string/ });
  assert.throws(matMul({ ...MATMUL, m: -1 }), { name: "RangeError", message: /at least 0 for matMul\.m but found -1/ });
  assert.throws(matMul({ ...MATMUL, n: 2.5 }), { name: "RangeError", message: /matMul\.n but found 2\.5/ });
  assert.throws(matMul({ ...MATMUL, transposeA: undefined }), {
    name: "TypeError",
    message: /Expected a boolean for matMul\.transposeA but found undefined/,
  });
  assert.throws(matMul({ ...MATMUL, transposeB: 1 }), { name: "TypeError", message: /boolean for matMul\.transposeB but found 1/ });
  assert.throws(() => native().matMul(f32(6), f32(6), f32(4), MATMUL, null, 9, 0), /activation code 0\.\.5 but found 9/);
});
test("addon kerasRmspropUpdate and kerasAdamUpdate attrs with a missing or mistyped field throw naming the field", () => {
  const rmsprop = (attrs: unknown) => () =>
    native().kerasRmspropUpdate([f32(3)], [f32(3)], [f32(3)], [f32(3)], [f32(3)], attrs as KerasRmspropUpdateAttrs);
  const adam = (attrs: unknown) => () =>
    native().kerasAdamUpdate([f32(3)], [f32(3)], [f32(3)], [f32(3)], [f32(3)], [f32(3)], [f32(3)], attrs as KerasAdamUpdateAttrs);
  rmsprop(RMSPROP)();
  adam(ADAM)();
  assert.throws(rmsprop(undefined), { name: "TypeError", message: /Expected an object for rmsprop but found undefined/ });
  assert.throws(rmsprop({ ...RMSPROP, rho: undefined }), {
    name: "TypeError",
    message: /Expected a number for rmsprop\.rho but found undefined/,
  });
  assert.throws(adam([0.001, 0.9, 0.1, 0.999, 0.001, 1e-7]), { name: "TypeError", message: /object for adam but found an array/ });
  assert.throws(adam({ ...ADAM, beta1: "0.9" }), { name: "TypeError", message: /Expected a number for adam\.beta1 but found a string/ });
  assert.throws(adam({ ...ADAM, learningRate: undefined }), /adam\.learningRate but found undefined/);
  const list = (...sizes: number[]) => sizes.map((n) => f32(n));
  assert.throws(
    () => native().kerasAdamUpdate(list(3, 5), list(3, 5), list(3, 5), list(3, 4), list(3, 5), list(3, 5), list(3, 5), ADAM),
    /Expected 5 elements in v\[1\] but found 4/,
  );
  assert.throws(
    () => native().kerasRmspropUpdate(list(3, 5), list(3, 5), list(3), list(3, 5), list(3, 5), RMSPROP),
    /Expected 2 arrays in a but found 1/,
  );
  assert.throws(() => native().kerasRmspropUpdate(f32(3) as never, list(3), list(3), list(3), list(3), RMSPROP), {
    name: "TypeError",
    message: /Expected an array of TypedArrays for p \(argument 0\)/,
  });
});
test("addon missing and non-array arguments throw TypeError", () => {
  const b = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of [
    "conv2dForward",
    "conv2dBackwardData",
    "conv2dBackwardFilter",
    "matMul",
    "maxPool",
    "maxPoolGrad",
    "binary",
    "unary",
    "select",
    "reduce",
    "softmax",
    "batchNorm",
    "cast",
    "transpose",
    "tile",
    "slice",
    "fill",
    "concat",
    "setMallocMmapThreshold",
    "alignmentOffset",
    "kerasRmspropUpdate",
    "kerasAdamUpdate",
  ]) {
    assert.throws(
      () => b[name](),
      (e: unknown) => e instanceof TypeError || e instanceof RangeError,
      name,
    );
    assert.throws(
      () => b[name]("x", {}, 3, null),
      (e: unknown) => e instanceof TypeError || e instanceof RangeError,
      name,
    );
  }
});
test("addon binary shapes that do not broadcast and bad op codes throw RangeError", () => {
  const n = native();
  const add = n.enums.binaryOp.Add;
  assert.throws(() => n.binary(add, f32(6), [2, 3], f32(2), [2], f32(6), [2, 3]), /broadcast/);
  assert.throws(() => n.binary(99, f32(1), [1], f32(1), [1], f32(1), [1]), /binary op code 0\.\.\d+ but found 99/);
  assert.throws(() => n.binary(add, f32(6), [2, 3], new Int32Array(6), [2, 3], f32(6), [2, 3]), /one dtype/);
  assert.throws(() => n.unary(n.enums.unaryOp.Relu, f32(3), f32(2), 0, 0), /Expected 3 elements in output/);
  assert.throws(() => n.unary(-1, f32(3), f32(3), 0, 0), /unary op code/);
  assert.throws(() => n.reduce(99, f32(6), f32(2), 2, 3, 1), /reduce op code/);
});
test("addon matMul, pool, reduce, transpose, slice, tile, select reject inconsistent sizes", () => {
  const n = native();
  assert.throws(
    () => n.matMul(f32(6), f32(6), f32(4), { ...MATMUL, batchA: 2, batchB: 3, m: 1 }, null, linear(), 0),
    /Expected equal batch sizes or a batch of 1 but found 2 and 3/,
  );
  assert.throws(() => n.matMul(f32(6), f32(5), f32(4), MATMUL, null, linear(), 0), /Expected 6 elements in b but found 5/);
  assert.throws(() => n.matMul(f32(6), f32(6), f32(4), MATMUL, f32(3), linear(), 0), /Expected 2 elements in bias but found 3/);
  assert.throws(() => n.maxPool(f32(10), f32(4), POOL), /elements in x/);
  assert.throws(() => n.maxPool(f32(16), f32(4), { ...POOL, filterHeight: 0 }), /at least 1 for pool\.filterHeight but found 0/);
  assert.throws(() => n.maxPool(f32(16), f32(4), { ...POOL, padInfo: undefined } as never), /object for pool\.padInfo/);
  assert.throws(() => n.reduce(n.enums.reduceOp.Sum, f32(6), f32(2), 2, 2, 1), /elements in x/);
  assert.throws(() => n.transpose(f32(6), [2, 3], [0, 0], f32(6)), /permutation/);
  assert.throws(() => n.slice(f32(6), [2, 3], [1, 2], [1, 2], f32(2)), /inside the input/);
  assert.throws(() => n.tile(f32(6), [2, 3], [2], f32(12)), /Expected reps of the input's rank 2 but found 1 values/);
  assert.throws(() => n.select(new Uint8Array(4), f32(6), f32(6), f32(6)), /divide/);
  assert.throws(() => n.concat([f32(3), new Int32Array(3)], [3, 3], 1, f32(6)), /dtype/);
});
test("addon setMallocMmapThreshold accepts 0..32 MiB and rejects the rest", () => {
  const n = native();
  assert.equal(n.setMallocMmapThreshold(4 * 1024 * 1024), true, "glibc accepts a fixed threshold");
  assert.throws(() => n.setMallocMmapThreshold(-1), /0\.\.32 MiB but found -1 bytes/);
  assert.throws(() => n.setMallocMmapThreshold(2 ** 26), /0\.\.32 MiB/);
  assert.throws(() => n.setMallocMmapThreshold(0.5), /integer/);
});
test("addon accepts TypedArray views (byteOffset) and detached buffers are rejected", () => {
  const relu = native().enums.unaryOp.Relu;
  const buf = new Float32Array([9, 9, -1, 2, -3, 4]);
  const out = new Float32Array(8).subarray(2, 6);
  native().unary(relu, buf.subarray(2), out, 0, 0);
  assert.deepEqual(Array.from(out), [0, 2, 0, 4]);
  const detached = new Float32Array(4);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assert.throws(() => native().unary(relu, detached, f32(4), 0, 0), RangeError);
});

/** On onednn an op must throw when cpu throws, else give cpu's result (natively, except `expectedFallbacks`). */
async function sameErrorOrResult(
  label: string,
  fn: () => tf.Tensor | tf.Tensor[],
  expectedFallbacks: Record<string, string> = {},
): Promise<void> {
  await onednnReady();
  let cpuError: unknown = null;
  try {
    await runOn("cpu", fn);
  } catch (e) {
    cpuError = e;
  }
  if (cpuError) {
    assert.deepEqual(expectedFallbacks, {}, `${label}: cpu threw, so no kernel can fall back`);
    await assert.rejects(
      runOn("onednn", fn),
      (e: unknown) => e instanceof Error,
      `${label}: cpu threw ${String(cpuError)} but onednn did not`,
    );
  } else {
    await assertMatchesCpu(label, fn, { expectedFallbacks });
  }
}

const INT32 = "int32 tensors: the native kernel computes float32 only";

test("ops with wrong rank, shape or dtype throw or match cpu on onednn", async () => {
  await sameErrorOrResult("conv2d rank 3 input", () =>
    tf.conv2d(rand([5, 5, 2], 1) as tf.Tensor3D, rand([3, 3, 2, 4], 2) as tf.Tensor4D, 1, "valid"),
  );
  await sameErrorOrResult("conv2d channel mismatch", () =>
    tf.conv2d(rand([1, 5, 5, 3], 1) as tf.Tensor4D, rand([3, 3, 2, 4], 2) as tf.Tensor4D, 1, "valid"),
  );
  await sameErrorOrResult("conv2d filter larger than input", () =>
    tf.conv2d(rand([1, 2, 2, 1], 1) as tf.Tensor4D, rand([3, 3, 1, 1], 2) as tf.Tensor4D, 1, "valid"),
  );
  await sameErrorOrResult("conv2d int32", () =>
    tf.conv2d(tf.ones([1, 4, 4, 1], "int32") as tf.Tensor4D, tf.ones([2, 2, 1, 1], "int32") as tf.Tensor4D, 1, "valid"),
  );
  await sameErrorOrResult("matMul inner mismatch", () => tf.matMul(rand([2, 3], 1), rand([4, 2], 2)));
  await sameErrorOrResult("matMul int32", () => tf.matMul(tf.ones([2, 3], "int32"), tf.ones([3, 2], "int32")), { BatchMatMul: INT32 });
  await sameErrorOrResult("add incompatible", () => tf.add(rand([2, 3], 1), rand([4], 2)));
  await sameErrorOrResult("add int32", () => tf.add(tf.tensor1d([1, 2], "int32"), tf.tensor1d([3, 4], "int32")), { Add: INT32 });
  await sameErrorOrResult("sum int32 and bool", () => [tf.sum(tf.tensor1d([1, 2], "int32")), tf.sum(tf.tensor1d([1, 0, 1], "bool"))]);
  await sameErrorOrResult("maxPool rank 2", () => tf.maxPool(rand([4, 4], 1) as unknown as tf.Tensor4D, 2, 2, "valid"));
  await sameErrorOrResult("reshape wrong size", () => tf.reshape(rand([2, 3], 1), [4]));
  await sameErrorOrResult("softmax empty", () => tf.softmax(tf.zeros([0, 3])));
  await sameErrorOrResult("batchNorm mismatched params", () => tf.batchNorm(rand([2, 3], 1), rand([3], 2), rand([2], 3)));
});

test("OnednnBackend disposeData and escape of data it does not hold return instead of recursing", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  // tfjs's own memory spec: a tensor over a data id no backend holds.
  const t = tf.engine().makeTensorFromDataId({}, [3], "float32");
  assert.doesNotThrow(() => t.dispose());
});

test("raggedGather (a list-of-tensors input) runs in JS on onednn and matches cpu", () =>
  assertMatchesCpu("raggedGather", () => {
    const { outputNestedSplits, outputDenseValues } = tf.raggedGather(
      [tf.tensor1d([0, 3, 3, 7, 9], "int32")],
      tf.tensor1d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
      tf.tensor1d([3, 0, 3], "int32"),
      1,
    );
    return [...outputNestedSplits, outputDenseValues];
  }));
