// Every native kernel of the onednn backend against tfjs's cpu kernel on seeded random inputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  BATCH_NORM_RELU_GRAD,
  BATCH_NORM_RELU_TRAIN,
  DROPOUT,
  KerasAdam,
  KerasRMSprop,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
  getKernelCallCounts,
  nativeKernelNames,
  resetKernelCallCounts,
  softmaxCrossEntropyWithLogits,
} from "mnist-lab";
import { assertAllClose, assertMatchesCpu, assertNativeRan, kernelsSeenNative, onednnReady, rand, runOn } from "./backend_helpers";

const s = (shape: number[]) => `[${shape.join(",")}]`;

// Conv2D, FusedConv2D and both backward kernels (through tf.grads).
const CONVS: Array<{ x: number[]; f: number[]; stride: number; pad: "valid" | "same"; dilation?: number }> = [
  { x: [2, 28, 28, 1], f: [5, 5, 1, 64], stride: 1, pad: "valid" },
  { x: [2, 12, 12, 64], f: [5, 5, 64, 64], stride: 1, pad: "valid" },
  { x: [2, 10, 10, 64], f: [3, 3, 64, 64], stride: 1, pad: "same" },
  { x: [3, 9, 9, 3], f: [3, 3, 3, 5], stride: 2, pad: "same" },
  { x: [1, 8, 7, 2], f: [4, 4, 2, 3], stride: 1, pad: "same" },
  { x: [2, 11, 10, 3], f: [5, 5, 3, 4], stride: 2, pad: "same" },
  { x: [2, 7, 7, 5], f: [1, 1, 5, 7], stride: 1, pad: "valid" },
  { x: [2, 9, 9, 3], f: [2, 2, 3, 3], stride: 2, pad: "valid" },
];
for (const c of CONVS) {
  test(`conv2d x=${s(c.x)} f=${s(c.f)} s=${c.stride} p=${c.pad}`, () =>
    assertMatchesCpu("conv2d", () => tf.conv2d(rand(c.x, 1) as tf.Tensor4D, rand(c.f, 2) as tf.Tensor4D, c.stride, c.pad), {
      rtol: 1e-4,
      atol: 1e-4,
    }));
  test(`fusedConv2d bias relu x=${s(c.x)} f=${s(c.f)} s=${c.stride} p=${c.pad}`, () =>
    assertMatchesCpu(
      "fusedConv2d",
      () =>
        tf.fused.conv2d({
          x: rand(c.x, 1) as tf.Tensor4D,
          filter: rand(c.f, 2) as tf.Tensor4D,
          strides: c.stride,
          pad: c.pad,
          bias: rand([c.f[3]], 3),
          activation: "relu",
        }),
      { rtol: 1e-4, atol: 1e-4 },
    ));
  test(`conv2d grads x=${s(c.x)} f=${s(c.f)} s=${c.stride} p=${c.pad}`, () =>
    assertMatchesCpu(
      "conv2d grads",
      () => {
        const x = rand(c.x, 1) as tf.Tensor4D,
          f = rand(c.f, 2) as tf.Tensor4D;
        const dy = rand(tf.conv2d(x, f, c.stride, c.pad).shape, 4);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))([x, f], dy);
      },
      { rtol: 1e-3, atol: 1e-3 },
    ));
}
test("conv2d dilation=2 x=[1,12,12,2] f=[3,3,2,3] p=same", () =>
  assertMatchesCpu("dilated conv2d", () =>
    tf.conv2d(rand([1, 12, 12, 2], 1) as tf.Tensor4D, rand([3, 3, 2, 3], 2) as tf.Tensor4D, 1, "same", "NHWC", 2),
  ));
for (const activation of ["linear", "relu6", "elu", "leakyrelu", "sigmoid", "prelu"] as const) {
  test(`fusedConv2d activation=${activation} x=[2,6,6,3] f=[3,3,3,4]`, () =>
    assertMatchesCpu(activation, () =>
      tf.fused.conv2d({
        x: rand([2, 6, 6, 3], 1) as tf.Tensor4D,
        filter: rand([3, 3, 3, 4], 2) as tf.Tensor4D,
        strides: 1,
        pad: "same",
        bias: rand([4], 3),
        activation,
        leakyreluAlpha: 0.1,
        preluActivationWeights: activation === "prelu" ? rand([4], 5) : undefined,
      }),
    ));
}

// NCHW runs natively too (transposed around the NHWC convolution), gradients included.
test("conv2d NCHW x=[2,3,7,7] f=[3,3,3,4] s=2 p=same, with grads", () =>
  assertMatchesCpu(
    "conv2d NCHW",
    () => {
      const x = rand([2, 3, 7, 7], 1) as tf.Tensor4D,
        f = rand([3, 3, 3, 4], 2) as tf.Tensor4D;
      const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same", "NCHW");
      return [conv(x, f), ...tf.grads(conv)([x, f], rand(conv(x, f).shape, 3))];
    },
    { rtol: 1e-3, atol: 1e-4 },
  ));
test("conv2d NCHW x=[1,2,5,5] f=[2,2,2,3] p=explicit [[0,0],[0,0],[1,0],[0,1]]", () =>
  assertMatchesCpu("conv2d NCHW explicit", () =>
    tf.conv2d(
      rand([1, 2, 5, 5], 1) as tf.Tensor4D,
      rand([2, 2, 2, 3], 2) as tf.Tensor4D,
      1,
      [
        [0, 0],
        [0, 0],
        [1, 0],
        [0, 1],
      ],
      "NCHW",
    ),
  ));

// FusedConv2D's epilogue in every form tfjs-cpu accepts: per-channel bias fuses, other biases and PReLU
// run after the convolution as native broadcasting ops.
const FUSED_EPILOGUES: Array<{ name: string; nchw?: boolean; bias?: number[]; prelu?: number[]; activation?: "relu" | "prelu" | "elu" }> = [
  { name: "bias=[] relu", bias: [], activation: "relu" },
  { name: "bias=[2,6,6,4] (full size) elu", bias: [2, 6, 6, 4], activation: "elu" },
  { name: "bias=[1,1,4] prelu=[1,1,4]", bias: [1, 1, 4], prelu: [1, 1, 4], activation: "prelu" },
  { name: "prelu=[]", prelu: [], activation: "prelu" },
  { name: "NCHW bias=[4] prelu=[4]", nchw: true, bias: [4], prelu: [4], activation: "prelu" },
  { name: "NCHW bias=[] relu", nchw: true, bias: [], activation: "relu" },
  { name: "NCHW bias=[1] prelu=[1]", nchw: true, bias: [1], prelu: [1], activation: "prelu" },
];
for (const c of FUSED_EPILOGUES) {
  test(`fusedConv2d ${c.name} x=${c.nchw ? "[2,3,6,6]" : "[2,6,6,3]"} f=[3,3,3,4] p=same`, () =>
    assertMatchesCpu(
      c.name,
      () =>
        tf.fused.conv2d({
          x: rand(c.nchw ? [2, 3, 6, 6] : [2, 6, 6, 3], 1) as tf.Tensor4D,
          filter: rand([3, 3, 3, 4], 2) as tf.Tensor4D,
          strides: 1,
          pad: "same",
          dataFormat: c.nchw ? "NCHW" : "NHWC",
          bias: c.bias ? rand(c.bias, 3) : undefined,
          activation: c.activation,
          preluActivationWeights: c.prelu ? rand(c.prelu, 4) : undefined,
        }),
      { rtol: 1e-4, atol: 1e-4 },
    ));
}

// BatchMatMul and _FusedMatMul, with gradients (which transpose).
const MATMULS: Array<{ a: number[]; b: number[]; ta?: boolean; tb?: boolean }> = [
  { a: [86, 160], b: [160, 26] },
  { a: [5, 7], b: [3, 7], tb: true },
  { a: [7, 5], b: [7, 3], ta: true },
  { a: [7, 5], b: [3, 7], ta: true, tb: true },
  { a: [3, 4, 5], b: [3, 5, 2] },
  { a: [1, 4, 5], b: [3, 5, 2] },
  { a: [3, 4, 5], b: [1, 5, 2] },
  { a: [2, 3, 4, 5], b: [2, 3, 5, 6] },
  { a: [4, 1], b: [1, 3] },
];
for (const m of MATMULS) {
  const name = `a=${s(m.a)} b=${s(m.b)} ta=${Boolean(m.ta)} tb=${Boolean(m.tb)}`;
  test(`matMul ${name}`, () => assertMatchesCpu("matMul", () => tf.matMul(rand(m.a, 1), rand(m.b, 2), m.ta, m.tb)));
  // tfjs's BatchMatMul gradient rejects a broadcast batch on every backend, so only unbroadcast ones get one.
  if (m.a.slice(0, -2).join() === m.b.slice(0, -2).join())
    test(`matMul grads ${name}`, () =>
      assertMatchesCpu("matMul grads", () =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, m.ta, m.tb))([rand(m.a, 1), rand(m.b, 2)]),
      ));
}
test("fusedMatMul bias relu a=[86,1600] b=[1600,256]", () =>
  assertMatchesCpu(
    "fusedMatMul",
    () => tf.fused.matMul({ a: rand([86, 1600], 1), b: rand([1600, 256], 2), bias: rand([256], 3), activation: "relu" }),
    { rtol: 1e-4, atol: 1e-4 },
  ));
test("fusedMatMul bias=[1] linear a=[3,4] b=[4,5] (broadcast bias)", () =>
  assertMatchesCpu("fusedMatMul", () => tf.fused.matMul({ a: rand([3, 4], 1), b: rand([4, 5], 2), bias: rand([1], 3) })));

test("fusedMatMul bias=[2,2] relu and prelu=[1,2] a=[1,2,3] b=[1,3,2] (epilogue after the sgemm)", () =>
  assertMatchesCpu("fusedMatMul epilogue", () => [
    tf.fused.matMul({
      a: rand([1, 2, 3], 1) as tf.Tensor3D,
      b: rand([1, 3, 2], 2) as tf.Tensor3D,
      bias: rand([2, 2], 3),
      activation: "relu",
    }),
    tf.fused.matMul({
      a: rand([1, 2, 3], 1) as tf.Tensor3D,
      b: rand([1, 3, 2], 2) as tf.Tensor3D,
      activation: "prelu",
      preluActivationWeights: rand([1, 2], 4),
    }),
    tf.fused.matMul({ a: rand([4, 3], 1), b: rand([3, 2], 2), bias: rand([1, 1, 2], 3) }),
  ]));
test("prelu x=[2,3,4] alpha=[4] and alpha=[]", () =>
  assertMatchesCpu("prelu", () => [tf.prelu(rand([2, 3, 4], 1), rand([4], 2)), tf.prelu(rand([2, 3, 4], 1), tf.scalar(0.25))]));

// MaxPool and MaxPoolGrad, including ties (constant input) and NaN.
const POOLS: Array<{ x: number[]; size: number; stride: number; pad: "valid" | "same" }> = [
  { x: [2, 20, 20, 64], size: 2, stride: 2, pad: "valid" },
  { x: [2, 8, 8, 3], size: 2, stride: 2, pad: "valid" },
  { x: [1, 7, 7, 2], size: 3, stride: 2, pad: "same" },
  { x: [2, 5, 6, 3], size: 3, stride: 1, pad: "same" },
  { x: [1, 9, 9, 1], size: 2, stride: 3, pad: "valid" },
];
for (const p of POOLS) {
  const name = `x=${s(p.x)} k=${p.size} s=${p.stride} p=${p.pad}`;
  test(`maxPool ${name}`, () => assertMatchesCpu("maxPool", () => tf.maxPool(rand(p.x, 1) as tf.Tensor4D, p.size, p.stride, p.pad)));
  test(`maxPool grad ${name}`, () =>
    assertMatchesCpu("maxPool grad", () =>
      tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, p.size, p.stride, p.pad))(
        rand(p.x, 1),
        rand(tf.maxPool(rand(p.x, 1) as tf.Tensor4D, p.size, p.stride, p.pad).shape, 2),
      ),
    ));
}
test("maxPool grad ties x=[1,4,4,2] constant", () =>
  assertMatchesCpu("ties", () => tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 2, 2, "valid"))(tf.ones([1, 4, 4, 2]))));
test("maxPool 1x1 that keeps the shape returns its input x=[1,2,2,3] s=2 p=1 (as tfjs's kernels do)", () =>
  assertMatchesCpu("maxPool 1x1", () => tf.maxPool(rand([1, 2, 2, 3], 1) as tf.Tensor4D, 1, 2, 1)));
test("maxPool NaN and -Infinity x=[1,2,2,1]", () =>
  assertMatchesCpu("nan pool", () => tf.maxPool(tf.tensor4d([NaN, -Infinity, 1, NaN, NaN, NaN, NaN, NaN], [2, 2, 2, 1]), 2, 2, "valid")));

// FusedBatchNorm.
test("batchNorm x=[2,6,6,64] params=[64]", () =>
  assertMatchesCpu("batchNorm", () =>
    tf.batchNorm(rand([2, 6, 6, 64], 1), rand([64], 2), tf.abs(rand([64], 3)), rand([64], 4), rand([64], 5), 0.001),
  ));
test("batchNorm x=[3,5] no offset or scale", () =>
  assertMatchesCpu("batchNorm", () => tf.batchNorm(rand([3, 5], 1), rand([5], 2), tf.abs(rand([5], 3)))));
test("batchNorm x=[2,4] params=[2,4] (full size)", () =>
  assertMatchesCpu("batchNorm", () =>
    tf.batchNorm(rand([2, 4], 1), rand([2, 4], 2), tf.abs(rand([2, 4], 3)), rand([2, 4], 4), rand([2, 4], 5), 1e-3),
  ));
test("batchNorm grads x=[2,4,4,3]", () =>
  assertMatchesCpu(
    "batchNorm grads",
    () =>
      tf.grads((x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, sc: tf.Tensor) => tf.batchNorm(x, m, v, o, sc, 0.001))([
        rand([2, 4, 4, 3], 1),
        rand([3], 2),
        tf.add(tf.abs(rand([3], 3)), 0.5),
        rand([3], 4),
        rand([3], 5),
      ]),
    { rtol: 1e-3, atol: 1e-4 },
  ));

// Binary ops over every broadcasting pattern the model uses and the general case.
const PATTERNS: Array<[number[], number[]]> = [
  [
    [2, 3, 4, 5],
    [2, 3, 4, 5],
  ],
  [[2, 3, 4, 5], [5]],
  [
    [2, 3, 4, 5],
    [1, 1, 1, 5],
  ],
  [
    [1, 1, 1, 5],
    [2, 3, 4, 5],
  ],
  [[2, 3, 4, 5], []],
  [[], [2, 3]],
  [
    [86, 10],
    [86, 1],
  ],
  [
    [2, 1, 4, 1],
    [1, 3, 1, 5],
  ],
  [
    [4, 1],
    [1, 3],
  ],
  [
    [3, 1, 5],
    [3, 4, 1],
  ],
  [[0, 3], [3]],
  [[1], [1]],
  [[70000], [70000]],
  [
    [300, 300],
    [300, 1],
  ],
];
const ARITHMETIC: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
  ["add", tf.add],
  ["sub", tf.sub],
  ["mul", tf.mul],
  ["div", tf.div],
  ["maximum", tf.maximum],
  ["minimum", tf.minimum],
  ["squaredDifference", tf.squaredDifference],
];
const COMPARISONS: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
  ["equal", tf.equal],
  ["notEqual", tf.notEqual],
  ["greater", tf.greater],
  ["greaterEqual", tf.greaterEqual],
  ["less", tf.less],
  ["lessEqual", tf.lessEqual],
];
for (const [a, b] of PATTERNS) {
  test(`binary arithmetic a=${s(a)} b=${s(b)}`, () =>
    assertMatchesCpu("arithmetic", () => ARITHMETIC.map(([, f]) => f(rand(a, 1), rand(b, 2)))));
  test(`binary comparison a=${s(a)} b=${s(b)}`, () =>
    assertMatchesCpu("comparison", () => COMPARISONS.map(([, f]) => f(tf.round(rand(a, 1)), tf.round(rand(b, 2))))));
}
test("pow a=[3,4] b=[4] (positive base)", () => assertMatchesCpu("pow", () => tf.pow(tf.abs(rand([3, 4], 1)), rand([4], 2))));
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.5, -2.25, 1e30];
test("binary NaN and Infinity propagate a=[10,10] b=[10,10]", () =>
  assertMatchesCpu("special", () => {
    const a = tf.tensor2d(
      SPECIAL.flatMap((x) => SPECIAL.map(() => x)),
      [10, 10],
    );
    const b = tf.tensor2d(
      SPECIAL.flatMap(() => SPECIAL),
      [10, 10],
    );
    return [...ARITHMETIC, ...COMPARISONS].map(([, f]) => f(a, b));
  }));
test("comparisons int32 a=[4,3] b=[3]", () =>
  assertMatchesCpu("int32", () =>
    COMPARISONS.map(([, f]) => f(tf.tensor2d([1, 2, 3, 4, 5, 6, -1, 0, 2, 3, 3, 3], [4, 3], "int32"), tf.tensor1d([2, 0, 3], "int32"))),
  ));
test("logical and/or/not a=[2,3] b=[3]", () =>
  assertMatchesCpu("logical", () => {
    const a = tf.tensor2d([1, 0, 1, 0, 1, 1], [2, 3], "bool"),
      b = tf.tensor1d([1, 1, 0], "bool");
    return [tf.logicalAnd(a, b), tf.logicalOr(a, b), tf.logicalNot(a)];
  }));

// Unary ops with special values.
test("unary ops x=[10] special values and x=[50000] random", () =>
  assertMatchesCpu(
    "unary",
    () => {
      return [tf.tensor1d(SPECIAL), rand([50000], 7)].flatMap((x) => [
        tf.relu(x),
        tf.step(x, 0.3),
        tf.square(x),
        tf.sqrt(x),
        tf.rsqrt(x),
        tf.neg(x),
        tf.log(x),
        tf.exp(x),
        tf.floor(x),
        tf.abs(x),
        tf.clipByValue(x, -1, 0.5),
        tf.sigmoid(x),
        tf.relu6(x),
        tf.reciprocal(x),
        tf.leakyRelu(x, 0.1),
        tf.elu(x),
        tf.ceil(x),
        tf.tanh(x),
        tf.zerosLike(x),
        tf.onesLike(x),
      ]);
    },
    { rtol: 1e-5, atol: 1e-6 },
  ));
test("relu grad x=[3,50000] with NaN, Infinity and zeros", () =>
  assertMatchesCpu("relu grad", () => {
    const x = tf.concat([rand([2, 50000], 1), tf.tensor2d([[NaN, Infinity, -Infinity, 0, -0, ...Array(49995).fill(1)]])]);
    const dy = tf.concat([rand([2, 50000], 2), tf.tensor2d([[1, 1, 1, Infinity, NaN, ...Array(49995).fill(2)]])]);
    return tf.grad((a: tf.Tensor) => tf.relu(a))(x, dy);
  }));
test("select condition=[4,5] a=[4,5] b=[4,5]", () =>
  assertMatchesCpu("select", () => tf.where(tf.greater(rand([4, 5], 1), 0), rand([4, 5], 2), rand([4, 5], 3))));
test("select condition=[] a=[] b=[] and int32 condition=[3]", () =>
  assertMatchesCpu("select", () => [
    tf.where(tf.scalar(true, "bool"), tf.scalar(1), tf.scalar(2)),
    tf.where(tf.tensor1d([1, 0, 1], "bool"), tf.tensor1d([1, 2, 3], "int32"), tf.tensor1d([4, 5, 6], "int32")),
  ]));

// Reductions over every axis set of a rank-3 tensor, with and without keepDims.
const AXES: number[][] = [[], [0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2], [-1]];
for (const axes of AXES) {
  for (const keepDims of [false, true]) {
    test(`reduce x=[3,4,5] axes=${s(axes)} keepDims=${keepDims}`, () =>
      assertMatchesCpu("reduce", () => {
        const x = rand([3, 4, 5], 1);
        return [
          tf.sum(x, axes, keepDims),
          tf.mean(x, axes, keepDims),
          tf.max(x, axes, keepDims),
          tf.min(x, axes, keepDims),
          tf.prod(x, axes, keepDims),
          tf.any(tf.greater(x, 1.5), axes, keepDims),
          tf.all(tf.greater(x, -1.5), axes, keepDims),
        ];
      }));
  }
}
for (const axis of [0, 1, 2]) {
  test(`argMax argMin x=[3,4,5] axis=${axis}`, () =>
    assertMatchesCpu("arg", () => [tf.argMax(rand([3, 4, 5], 1), axis), tf.argMin(rand([3, 4, 5], 1), axis)]));
}
test("reduce batch-norm moments x=[86,24,24,64] axes=[0,1,2]", () =>
  assertMatchesCpu(
    "moments",
    () => {
      const m = tf.moments(rand([86, 24, 24, 64], 1), [0, 1, 2]);
      return [m.mean, m.variance];
    },
    { rtol: 1e-4, atol: 1e-5 },
  ));
test("reduce NaN and Infinity x=[2,5]", () =>
  assertMatchesCpu("special reduce", () => {
    const x = tf.tensor2d([1, NaN, 3, Infinity, -1, -Infinity, 2, 0, 5, 1], [2, 5]);
    return [tf.sum(x, 1), tf.max(x, 1), tf.min(x, 1), tf.mean(x, 1), tf.argMax(x, 1)];
  }));
test("sum int32 x=[3,4,5] axes=[1] and [0,2], bool x=[7] (counts)", () =>
  assertMatchesCpu("int32 sum", () => {
    const x = tf.cast(tf.mul(rand([3, 4, 5], 1), 1000), "int32");
    return [tf.sum(x, 1), tf.sum(x, [0, 2], true), tf.sum(tf.tensor1d([1, 0, 1, 1, 0, 1, 1], "bool"))];
  }));
test("mean of 3e38 stays finite x=[3] and x=[3,2] axes=[0] (accumulates in double)", () =>
  assertMatchesCpu("mean 3e38", () => [
    tf.mean(tf.tensor1d([3e38, 3e38, 3e38])),
    tf.mean(tf.fill([3, 2], 3e38), 0),
    tf.sum(tf.tensor1d([3e38, 3e38, -3e38])),
  ]));
test("reduce zero-size x=[0,3] axes=[0] and x=[2,0] axes=[1]", () =>
  assertMatchesCpu("empty reduce", () => [tf.sum(tf.zeros([0, 3]), 0), tf.mean(tf.zeros([2, 0]), 1), tf.sum(tf.zeros([2, 0]), 1)]));

// Softmax.
for (const shape of [
  [86, 10],
  [2, 3, 7],
  [5, 1],
]) {
  test(`softmax x=${s(shape)}`, () => assertMatchesCpu("softmax", () => tf.softmax(rand(shape, 1))));
}
test("softmax large and -Infinity logits x=[2,3]", () =>
  assertMatchesCpu("softmax special", () => tf.softmax(tf.tensor2d([1000, 0, -1000, -Infinity, 1, 2], [2, 3]))));

// The cross-entropy of a softmax from its logits: one native pass forward, one backward, equal to tfjs's
// softmaxCrossEntropy (which runs on cpu here) in values and gradients, a confidently wrong row included.
test("softmaxCrossEntropyWithLogits x=[86,10]: loss and gradient as tfjs's, each in one native kernel", async () => {
  const oneHot = Array.from({ length: 86 * 10 }, (_, k) => (k % 10 === (Math.floor(k / 10) * 7) % 10 ? 1 : 0));
  const labels = () => tf.tensor2d(oneHot, [86, 10]);
  const logits = () => tf.concat([tf.mul(rand([85, 10], 3), 10), tf.tensor2d([[30, 0, 0, 0, 0, 0, 0, 0, 0, 0]])]);
  await assertMatchesCpu("softmax cross-entropy", () => {
    const y = labels();
    const x = logits();
    const grad = tf.grad((z: tf.Tensor) => tf.mean(softmaxCrossEntropyWithLogits(y, z)))(x);
    return [softmaxCrossEntropyWithLogits(y, x), grad];
  });
  const { native } = getKernelCallCounts();
  assert.ok((native[SOFTMAX_CROSS_ENTROPY] ?? 0) >= 2, "the forward ran natively (the loss, and inside the gradient)");
  assert.ok((native[SOFTMAX_CROSS_ENTROPY_GRAD] ?? 0) >= 1, "the gradient ran natively");
});

// Casts, copies and layout changes.
test("cast float32->int32->float32->bool x=[12]", () =>
  assertMatchesCpu("cast", () => {
    const x = tf.tensor1d([NaN, Infinity, -Infinity, 0, -0.5, 0.5, -1.7, 2.9, 3e9, -3e9, 123456, -7]);
    const i = tf.cast(x, "int32");
    return [
      i,
      tf.cast(i, "float32"),
      tf.cast(x, "bool"),
      tf.cast(tf.cast(x, "bool"), "float32"),
      tf.cast(tf.cast(x, "bool"), "int32"),
      tf.cast(i, "bool"),
    ];
  }));
test("transpose x=[2,3,4,5] perm=[0,3,1,2] and bool perm=[1,0]", () =>
  assertMatchesCpu("transpose", () => [
    tf.transpose(rand([2, 3, 4, 5], 1), [0, 3, 1, 2]),
    tf.transpose(tf.greater(rand([3, 4], 1), 0), [1, 0]),
  ]));
test("tile x=[1,1,1,64] reps=[2,3,3,1] and x=[2,3] reps=[2,2]", () =>
  assertMatchesCpu("tile", () => [
    tf.tile(rand([1, 1, 1, 64], 1), [2, 3, 3, 1]),
    tf.tile(rand([2, 3], 2), [2, 2]),
    tf.tile(tf.tensor1d([1, 2], "int32"), [3]),
  ]));
test("slice x=[10,28,28,1] begin=[3,0,0,0] size=[4,-1,-1,-1] and x=[5,6] begin=[1,2] size=[3,3]", () =>
  assertMatchesCpu("slice", () => [
    tf.slice(rand([10, 28, 28, 1], 1), [3, 0, 0, 0], [4, -1, -1, -1]),
    tf.slice(rand([5, 6], 2), [1, 2], [3, 3]),
  ]));
test("concat axis=0 [3,4]+[2,4]+[0,4], axis=1 [2,3]+[2,1], bool axis=-1", () =>
  assertMatchesCpu("concat", () => [
    tf.concat([rand([3, 4], 1), rand([2, 4], 2), tf.zeros([0, 4])], 0),
    tf.concat([rand([2, 3], 3), rand([2, 1], 4)], 1),
    tf.concat([tf.tensor1d([1, 0], "bool"), tf.tensor1d([1], "bool")], -1),
    tf.concat([rand([2, 2, 3], 5), rand([2, 1, 3], 6)], 1),
  ]));
test("reshape and identity share data x=[2,3]", () =>
  assertMatchesCpu("reshape", () => {
    const x = rand([2, 3], 1);
    return [tf.reshape(x, [3, 2]), tf.clone(x)];
  }));

// Inputs that are views into a larger buffer (tf.tensor keeps a TypedArray view as is).
test("conv2d and add on TypedArray views x=[1,6,6,2] (byteOffset 12)", () =>
  assertMatchesCpu("views", () => {
    const buf = new Float32Array(3 + 72 + 36);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.sin(i);
    const x = tf.tensor4d(buf.subarray(3, 75), [1, 6, 6, 2]);
    const f = tf.tensor4d(buf.subarray(75, 111), [3, 3, 2, 2]);
    return [tf.conv2d(x, f, 1, "same"), tf.add(x, 1), tf.maxPool(x, 2, 2, "valid")];
  }));

// Zero-size tensors.
test("zero-size conv2d x=[0,5,5,2] f=[3,3,2,4] and matMul a=[0,3] b=[3,2]", () =>
  assertMatchesCpu("empty", () => [
    tf.conv2d(tf.zeros([0, 5, 5, 2]) as tf.Tensor4D, rand([3, 3, 2, 4], 1) as tf.Tensor4D, 1, "same"),
    tf.matMul(tf.zeros([0, 3]), rand([3, 2], 2)),
    tf.add(tf.zeros([0, 3]), rand([3], 3)),
    tf.relu(tf.zeros([0])),
    tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])),
  ]));

// NaN and Infinity through oneDNN's convolution and sgemm, with and without the fused relu.
test("conv2d and matMul NaN and Infinity x=[1,4,4,2] f=[2,2,2,3]", () =>
  assertMatchesCpu("special conv", () => {
    const v = Array.from({ length: 32 }, (_, i) => (i === 5 ? NaN : i === 17 ? Infinity : i === 30 ? -Infinity : (i % 7) - 3));
    const x = tf.tensor4d(v, [1, 4, 4, 2]),
      f = rand([2, 2, 2, 3], 2) as tf.Tensor4D;
    return [
      tf.conv2d(x, f, 1, "valid"),
      tf.fused.conv2d({ x, filter: f, strides: 1, pad: "same", bias: rand([3], 3), activation: "relu" }),
      tf.matMul(tf.reshape(x, [4, 8]), rand([8, 3], 4)),
      tf.fused.matMul({ a: tf.reshape(x, [4, 8]), b: rand([8, 3], 4), activation: "relu" }),
    ];
  }));

// The fused Keras optimizer updates: the same bits as lib/optimizers.ts's op chain, which the cpu backend runs.
// Shapes on both sides of the threading threshold; gradients of mixed scales, zeros among them.
function optimizerSteps(make: () => KerasRMSprop | KerasAdam): tf.Tensor[] {
  const scales = rand([3], 9).dataSync();
  // One kernel call updates them all: the threads' shares of the elements laid end to end cross variables.
  const p = [tf.variable(rand([5, 5, 64, 64], 1)), tf.variable(rand([3, 7], 5)), tf.variable(rand([64], 2))];
  const optimizer = make();
  for (let step = 0; step < 3; step++) {
    optimizer.applyGradients(
      p.map((v, i) => ({
        name: v.name,
        tensor: tf.tidy(() => tf.mul(tf.relu(rand(v.shape, 10 * step + i)), Math.pow(10, Math.round(scales[step] * 3)))),
      })),
    );
  }
  const slots = (optimizer as unknown as { slotSets: Map<string, { slots: tf.Variable[] }> }).slotSets;
  const out = [...p.map((v) => v.clone()), ...[...slots.values()].flatMap((s) => s.slots.map((t) => t.clone()))];
  optimizer.dispose();
  tf.dispose(p);
  return out;
}
test("kerasRmspropUpdate p=[5,5,64,64], [3,7] and [64], 3 steps, matches the op chain bit for bit", () =>
  assertMatchesCpu("KerasRMSprop", () => optimizerSteps(() => new KerasRMSprop(0.001, 0.9, 1e-8)), { rtol: 0, atol: 0 }));
test("kerasAdamUpdate p=[5,5,64,64], [3,7] and [64], 3 steps, matches the op chain bit for bit", () =>
  assertMatchesCpu("KerasAdam", () => optimizerSteps(() => new KerasAdam(0.001, 0.9, 0.999, 1e-8)), { rtol: 0, atol: 0 }));

// The training step's fused kernels (onednn only; lib/training/fused_step.ts) against the op chains they replace, which
// tfjs's cpu backend runs: relu → moments → batchNorm and tfjs's gradient of it; dropout's multiplier.
test("batchNormReluTrain and batchNormReluGrad z=[6,7,7,64]: as relu, moments, batchNorm and their tfjs gradients", async () => {
  const shape = [6, 7, 7, 64];
  const varianceEpsilon = 1e-3;
  const momentum = 0.99;
  const inputs = () => ({
    z: rand(shape, 1),
    gamma: tf.add(rand([64], 2), 1),
    beta: rand([64], 3),
    dy: rand(shape, 4),
    movingMean: rand([64], 5),
    movingVariance: tf.abs(rand([64], 6)),
  });
  const expected = await runOn("cpu", () => {
    const { z, gamma, beta, dy, movingMean, movingVariance } = inputs();
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const a = tf.relu(x);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean, variance, b, g, varianceEpsilon);
    };
    const { mean, variance } = tf.moments(tf.relu(z), [0, 1, 2]);
    const [dz, dGamma, dBeta] = tf.grads(f)([z, gamma, beta], dy);
    // tfjs-layers' moving average, op by op.
    const moved = (v: tf.Tensor, batch: tf.Tensor) => tf.sub(v, tf.mul(tf.sub(v, batch), 1 - momentum));
    const moving = [moved(movingMean, mean), moved(movingVariance, variance)];
    return [f(z, gamma, beta), mean, variance, ...moving, dz, dGamma, dBeta, tf.sum(dz, [0, 1, 2])];
  });
  resetKernelCallCounts();
  const actual = await runOn("onednn", () => {
    const { z, gamma, beta, dy, movingMean, movingVariance } = inputs();
    const attrs = { varianceEpsilon, momentum } as unknown as tf.NamedAttrMap;
    const forward = tf.engine().runKernel(BATCH_NORM_RELU_TRAIN, { z, gamma, beta, movingMean, movingVariance }, attrs) as tf.Tensor[];
    const [, mean, variance] = forward;
    const grads = tf.engine().runKernel(BATCH_NORM_RELU_GRAD, { dy, z, mean, variance, gamma }, attrs) as tf.Tensor[];
    return [...forward, ...grads];
  });
  const names = ["y", "mean", "variance", "movingMean", "movingVariance", "dz", "dGamma", "dBeta", "dBias"];
  names.forEach((name, i) => assertAllClose(actual[i].values, expected[i].values, name, { rtol: 1e-4, atol: 1e-4 }));
  assertNativeRan("batchNormRelu");
  const { native } = getKernelCallCounts();
  assert.deepEqual([native[BATCH_NORM_RELU_TRAIN], native[BATCH_NORM_RELU_GRAD]], [1, 1], "each ran once, natively");
});

test("batchNormReluTrain/Grad with the 2×2 max-pool z=[4,9,8,16] (an odd border): as relu, moments, batchNorm, maxPool", async () => {
  const shape = [4, 9, 8, 16];
  const varianceEpsilon = 1e-3;
  const inputs = () => ({
    z: rand(shape, 11),
    gamma: tf.add(rand([16], 12), 1),
    beta: rand([16], 13),
    dy: rand([4, 4, 4, 16], 14),
    movingMean: rand([16], 15),
    movingVariance: tf.abs(rand([16], 16)),
  });
  const expected = await runOn("cpu", () => {
    const { z, gamma, beta, dy } = inputs();
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const a = tf.relu(x);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.maxPool(tf.batchNorm(a, mean, variance, b, g, varianceEpsilon) as tf.Tensor4D, 2, 2, "valid");
    };
    const [dz, dGamma, dBeta] = tf.grads(f)([z, gamma, beta], dy);
    return [f(z, gamma, beta), dz, dGamma, dBeta, tf.sum(dz, [0, 1, 2])];
  });
  resetKernelCallCounts();
  const actual = await runOn("onednn", () => {
    const { z, gamma, beta, dy, movingMean, movingVariance } = inputs();
    const attrs = { varianceEpsilon, momentum: 0.99, pool: true } as unknown as tf.NamedAttrMap;
    const [y, mean, variance, , , at] = tf
      .engine()
      .runKernel(BATCH_NORM_RELU_TRAIN, { z, gamma, beta, movingMean, movingVariance }, attrs) as tf.Tensor[];
    const grads = tf.engine().runKernel(BATCH_NORM_RELU_GRAD, { dy, z, mean, variance, gamma, at }, attrs) as tf.Tensor[];
    return [y, ...grads];
  });
  ["pooled y", "dz", "dGamma", "dBeta", "dBias"].forEach((name, i) =>
    assertAllClose(actual[i].values, expected[i].values, name, { rtol: 1e-4, atol: 1e-4 }),
  );
  assertNativeRan("batchNormRelu with pool");
  const { native } = getKernelCallCounts();
  assert.deepEqual([native[BATCH_NORM_RELU_TRAIN], native[BATCH_NORM_RELU_GRAD], native.MaxPool], [1, 1, undefined]);
});

test("dropout x=[86,10,10,64] rate=0.25: y = x·multiplier, 1/0.75 or 0, a quarter dropped, the same mask for the same seed", async () => {
  await onednnReady();
  await tf.setBackend("onednn");
  resetKernelCallCounts();
  const x = rand([86, 10, 10, 64], 1);
  const run = (seed: number) => tf.engine().runKernel(DROPOUT, { x }, { rate: 0.25, seed } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  const [y, m] = run(7);
  const [, again] = run(7);
  const [, other] = run(8);
  const [xv, yv, mv] = [x.dataSync(), y.dataSync(), m.dataSync()];
  const keep = Math.fround(1 / Math.fround(0.75));
  let dropped = 0;
  for (let i = 0; i < mv.length; i++) {
    assert.ok(mv[i] === 0 || mv[i] === keep, `multiplier ${mv[i]} at ${i}`);
    assert.equal(yv[i], Math.fround(xv[i] * mv[i]));
    if (mv[i] === 0) dropped++;
  }
  // Binomial: 550,400 draws at p = 0.25 give an sd of 0.058 points; 0.5 points is over 8 sds.
  assert.ok(Math.abs(dropped / mv.length - 0.25) < 0.005, `dropped ${dropped / mv.length}`);
  assert.deepEqual(Array.from(again.dataSync()), Array.from(mv));
  assert.notDeepEqual(Array.from(other.dataSync()), Array.from(mv));
  assertNativeRan("dropout");
  assert.equal(getKernelCallCounts().native[DROPOUT], 3);
  tf.dispose([x, y, m, again, other]);
});

// Runs last (node:test keeps file order): a native kernel no test above ran natively is a kernel nobody checks.
test("nativeKernelNames every native kernel ran natively in a test above", () => {
  assert.deepEqual(
    nativeKernelNames().filter((k) => !kernelsSeenNative.has(k)),
    [],
  );
});
