// Broadcasting binary ops, unary ops and Select (native/src/elementwise.cc).
import { backend_util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelConfig } from "./util";
import { f32, numeric, output } from "./util";

// Op codes of native/src/elementwise.cc; Prelu's inputs are named x and alpha, so it has its own config.
export const ADD_OP = 0;
export const PRELU_OP = 16;
const BINARY_OPS: Array<[string, number, "arithmetic" | "comparison" | "logical"]> = [
  ["Add", 0, "arithmetic"],
  ["Sub", 1, "arithmetic"],
  ["Multiply", 2, "arithmetic"],
  ["RealDiv", 3, "arithmetic"],
  ["Maximum", 4, "arithmetic"],
  ["Minimum", 5, "arithmetic"],
  ["Pow", 6, "arithmetic"],
  ["SquaredDifference", 7, "arithmetic"],
  ["Equal", 8, "comparison"],
  ["NotEqual", 9, "comparison"],
  ["Greater", 10, "comparison"],
  ["GreaterEqual", 11, "comparison"],
  ["Less", 12, "comparison"],
  ["LessEqual", 13, "comparison"],
  ["LogicalAnd", 14, "logical"],
  ["LogicalOr", 15, "logical"],
];

/** A float32 tensor of the backend combined with a float32 array of `bShape` by a broadcasting binary op. */
export function binaryInto(backend: OnednnBackend, op: number, a: TensorInfo, b: Float32Array, bShape: number[]): TensorInfo {
  const shape = backend_util.assertAndGetBroadcastShape(a.shape, bShape);
  const out = output(backend, shape, "float32");
  backend.native.binary(op, f32(backend, a)!, a.shape, b, bShape, out.values, shape);
  return out.info;
}

// Unary op codes by fused activation code (fused.ts's activationCode: relu, relu6, elu, leakyrelu, sigmoid).
const ACTIVATION_UNARY_OPS: Record<number, number> = { 1: 0, 2: 12, 3: 15, 4: 14, 5: 11 };

/** A fused kernel's activation (by activationCode's code) applied to a float32 tensor of the backend. */
export function unaryActivation(backend: OnednnBackend, x: TensorInfo, code: number, alpha: number): TensorInfo {
  const out = output(backend, [...x.shape], "float32");
  backend.native.unary(ACTIVATION_UNARY_OPS[code], f32(backend, x)!, out.values, alpha, 0);
  return out.info;
}

export const preluConfig: NativeKernelConfig = {
  kernelName: "Prelu",
  kernelFunc: ({ inputs, backend }) => {
    const { x, alpha } = inputs;
    const a = f32(backend, alpha);
    if (!x || !alpha || !a || !f32(backend, x)) return null;
    return binaryInto(backend, PRELU_OP, x, a, [...alpha.shape]);
  },
};

function binaryConfig(kernelName: string, op: number, kind: "arithmetic" | "comparison" | "logical"): NativeKernelConfig {
  return {
    kernelName,
    kernelFunc: ({ inputs, backend }) => {
      const ta = inputs.a,
        tb = inputs.b;
      if (!ta || !tb || ta.dtype !== tb.dtype) return null;
      const wanted = kind === "arithmetic" ? ["float32"] : kind === "comparison" ? ["float32", "int32"] : ["bool"];
      if (!wanted.includes(ta.dtype)) return null;
      const a = numeric(backend, ta),
        b = numeric(backend, tb);
      if (!a || !b) return null;
      const shape = backend_util.assertAndGetBroadcastShape(ta.shape, tb.shape);
      const out = output(backend, shape, kind === "arithmetic" ? "float32" : "bool");
      backend.native.binary(op, a, ta.shape, b, tb.shape, out.values, shape);
      return out.info;
    },
  };
}

// Op codes of native/src/elementwise.cc; attrs give alpha and beta where the op has them.
const UNARY_OPS: Array<[string, number, (attrs: Record<string, unknown>) => [number, number]]> = [
  ["Relu", 0, () => [0, 0]],
  ["Step", 1, (a) => [Number(a.alpha ?? 0), 0]],
  ["Square", 2, () => [0, 0]],
  ["Sqrt", 3, () => [0, 0]],
  ["Rsqrt", 4, () => [0, 0]],
  ["Neg", 5, () => [0, 0]],
  ["Log", 6, () => [0, 0]],
  ["Exp", 7, () => [0, 0]],
  ["Floor", 8, () => [0, 0]],
  ["Abs", 9, () => [0, 0]],
  ["ClipByValue", 10, (a) => [Number(a.clipValueMin), Number(a.clipValueMax)]],
  ["Sigmoid", 11, () => [0, 0]],
  ["Relu6", 12, () => [0, 0]],
  ["Reciprocal", 13, () => [0, 0]],
  ["LeakyRelu", 14, (a) => [Number(a.alpha ?? 0.2), 0]],
  ["Elu", 15, () => [0, 0]],
  ["Ceil", 16, () => [0, 0]],
  ["Tanh", 17, () => [0, 0]],
];

function unaryConfig(kernelName: string, op: number, params: (attrs: Record<string, unknown>) => [number, number]): NativeKernelConfig {
  return {
    kernelName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = f32(backend, inputs.x);
      if (!x) return null;
      const [alpha, beta] = params(attrs);
      const out = output(backend, [...inputs.x!.shape], "float32");
      backend.native.unary(op, x, out.values, alpha, beta);
      return out.info;
    },
  };
}

export const logicalNotConfig: NativeKernelConfig = {
  kernelName: "LogicalNot",
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x?.dtype === "bool" ? numeric(backend, inputs.x) : null;
    if (!x) return null;
    const out = output(backend, [...inputs.x!.shape], "bool");
    backend.native.unary(18, x, out.values, 0, 0);
    return out.info;
  },
};

export const selectConfig: NativeKernelConfig = {
  kernelName: "Select",
  kernelFunc: ({ inputs, backend }) => {
    const { condition, t, e } = inputs;
    if (!condition || !t || !e || condition.dtype !== "bool" || t.dtype !== e.dtype) return null;
    const c = numeric(backend, condition),
      a = numeric(backend, t),
      b = numeric(backend, e);
    // Only the elementwise form; tfjs-cpu's row-wise form (rank-1 condition) stays in JS.
    if (!c || !a || !b || c.length !== a.length || a.length !== b.length) return null;
    const out = output(backend, [...t.shape], t.dtype as "float32" | "int32" | "bool");
    backend.native.select(c as Uint8Array, a, b, out.values);
    return out.info;
  },
};

function fillConfig(kernelName: string, value: number): NativeKernelConfig {
  return {
    kernelName,
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x;
      if (!x || !numeric(backend, x)) return null;
      const out = output(backend, [...x.shape], x.dtype as "float32" | "int32" | "bool");
      backend.native.fill(out.values, value);
      return out.info;
    },
  };
}

/** Kernel name of Relu's fused gradient dy * step(x); only the onednn backend has it (see ../gradients.ts). */
export const RELU_GRAD = "OnednnReluGrad";

export const reluGradConfig: NativeKernelConfig = {
  kernelName: RELU_GRAD,
  kernelFunc: ({ inputs, backend }) => {
    const dy = f32(backend, inputs.dy),
      x = f32(backend, inputs.x);
    if (!dy || !x || dy.length !== x.length) return null;
    const out = output(backend, [...inputs.x!.shape], "float32");
    backend.native.reluGrad(dy, x, out.values);
    return out.info;
  },
};

export const elementwiseConfigs: NativeKernelConfig[] = [
  reluGradConfig,
  ...BINARY_OPS.map(([name, op, kind]) => binaryConfig(name, op, kind)),
  ...UNARY_OPS.map(([name, op, params]) => unaryConfig(name, op, params)),
  preluConfig,
  logicalNotConfig,
  selectConfig,
  fillConfig("ZerosLike", 0),
  fillConfig("OnesLike", 1),
];
