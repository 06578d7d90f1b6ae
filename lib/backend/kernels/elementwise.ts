// Broadcasting binary ops, unary ops and Select (native/src/elementwise.cc).
import {
  ClipByValue,
  Elu,
  Equal,
  Greater,
  GreaterEqual,
  LeakyRelu,
  Less,
  LessEqual,
  LogicalAnd,
  LogicalNot,
  LogicalOr,
  NotEqual,
  OnesLike,
  Prelu,
  Relu,
  Relu6,
  Select,
  Sigmoid,
  Step,
  ZerosLike,
  backend_util,
} from "@tensorflow/tfjs-core";
import type {
  BinaryInputs,
  ClipByValueAttrs,
  LeakyReluAttrs,
  PreluInputs,
  SelectInputs,
  StepAttrs,
  TensorInfo,
  UnaryInputs,
} from "@tensorflow/tfjs-core";
import { NATIVE_ENUM_NAMES } from "../native_binding";
import type { ActivationName, BinaryOpName, UnaryOpName } from "../native_binding";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelConfig, NoAttrs } from "./util";
import { f32, nativeKernel, numeric, output } from "./util";

/** The dtypes a binary kernel takes: float32 (arithmetic), float32 or int32 (comparison, bool out), or bool (logical). */
type BinaryKind = "arithmetic" | "comparison" | "logical";
const COMPARISONS: readonly BinaryOpName[] = [Equal, NotEqual, Greater, GreaterEqual, Less, LessEqual];
const LOGICAL: readonly BinaryOpName[] = [LogicalAnd, LogicalOr];

/** A float32 tensor of the backend combined with a float32 array of `bShape` by a broadcasting binary op. */
export function binaryInto(backend: OnednnBackend, op: BinaryOpName, a: TensorInfo, b: Float32Array, bShape: number[]): TensorInfo {
  const shape = backend_util.assertAndGetBroadcastShape(a.shape, bShape);
  const out = output(backend, shape, "float32");
  backend.native.binary(backend.native.enums.binaryOp[op], f32(backend, a)!, a.shape, b, bShape, out.values, shape);
  return out.info;
}

/** The unary kernel of each activation a fused kernel may apply after its native call. */
const ACTIVATION_UNARY_OPS: Record<Exclude<ActivationName, "linear">, UnaryOpName> = {
  relu: Relu,
  relu6: Relu6,
  elu: Elu,
  leakyrelu: LeakyRelu,
  sigmoid: Sigmoid,
};

/** A fused kernel's activation applied to a float32 tensor of the backend. */
export function unaryActivation(
  backend: OnednnBackend,
  x: TensorInfo,
  activation: Exclude<ActivationName, "linear">,
  alpha: number,
): TensorInfo {
  const out = output(backend, [...x.shape], "float32");
  backend.native.unary(backend.native.enums.unaryOp[ACTIVATION_UNARY_OPS[activation]], f32(backend, x)!, out.values, alpha, 0);
  return out.info;
}

export const preluConfig = nativeKernel<NoAttrs, PreluInputs>(Prelu, ({ inputs, backend }) => {
  const { x, alpha } = inputs;
  const a = f32(backend, alpha);
  if (!x || !alpha || !a || !f32(backend, x)) return null;
  return binaryInto(backend, Prelu, x, a, [...alpha.shape]);
});

function binaryConfig(op: BinaryOpName): NativeKernelConfig {
  const kind: BinaryKind = COMPARISONS.includes(op) ? "comparison" : LOGICAL.includes(op) ? "logical" : "arithmetic";
  return nativeKernel<NoAttrs, BinaryInputs>(op, ({ inputs, backend }) => {
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
    backend.native.binary(backend.native.enums.binaryOp[op], a, ta.shape, b, tb.shape, out.values, shape);
    return out.info;
  });
}

/** The attrs of the unary kernels that have any. */
type UnaryAttrs = Partial<StepAttrs & LeakyReluAttrs & ClipByValueAttrs>;

/** The alpha and beta of the unary kernels that take any, from their attrs; the others take none. */
const UNARY_PARAMS: Partial<Record<UnaryOpName, (attrs: UnaryAttrs) => [number, number]>> = {
  [Step]: (a) => [Number(a.alpha ?? 0), 0],
  [ClipByValue]: (a) => [Number(a.clipValueMin), Number(a.clipValueMax)],
  [LeakyRelu]: (a) => [Number(a.alpha ?? 0.2), 0],
};

function unaryConfig(op: UnaryOpName): NativeKernelConfig {
  const params = UNARY_PARAMS[op] ?? (() => [0, 0]);
  return nativeKernel<UnaryAttrs, UnaryInputs>(op, ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x) return null;
    const [alpha, beta] = params(attrs);
    const out = output(backend, [...inputs.x!.shape], "float32");
    backend.native.unary(backend.native.enums.unaryOp[op], x, out.values, alpha, beta);
    return out.info;
  });
}

export const logicalNotConfig = nativeKernel<NoAttrs, UnaryInputs>(LogicalNot, ({ inputs, backend }) => {
  const x = inputs.x?.dtype === "bool" ? numeric(backend, inputs.x) : null;
  if (!x) return null;
  const out = output(backend, [...inputs.x!.shape], "bool");
  backend.native.unary(backend.native.enums.unaryOp[LogicalNot], x, out.values, 0, 0);
  return out.info;
});

export const selectConfig = nativeKernel<NoAttrs, SelectInputs>(Select, ({ inputs, backend }) => {
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
});

function fillConfig(kernelName: typeof ZerosLike | typeof OnesLike, value: number): NativeKernelConfig {
  return nativeKernel<NoAttrs, UnaryInputs>(kernelName, ({ inputs, backend }) => {
    const x = inputs.x;
    if (!x || !numeric(backend, x)) return null;
    const out = output(backend, [...x.shape], x.dtype as "float32" | "int32" | "bool");
    backend.native.fill(out.values, value);
    return out.info;
  });
}

/** Kernel name of Relu's fused gradient dy * step(x); only the onednn backend has it (see ../gradients.ts). */
export const RELU_GRAD = "OnednnReluGrad";

export const reluGradConfig = nativeKernel(RELU_GRAD, ({ inputs, backend }) => {
  const dy = f32(backend, inputs.dy),
    x = f32(backend, inputs.x);
  if (!dy || !x || dy.length !== x.length) return null;
  const out = output(backend, [...inputs.x!.shape], "float32");
  backend.native.reluGrad(dy, x, out.values);
  return out.info;
});

export const elementwiseConfigs: NativeKernelConfig[] = [
  reluGradConfig,
  // Every binary and unary op of the addon; Prelu's inputs are named x and alpha and LogicalNot takes bool, so they
  // have their own configs.
  ...NATIVE_ENUM_NAMES.binaryOp.filter((op) => op !== Prelu).map(binaryConfig),
  ...NATIVE_ENUM_NAMES.unaryOp.filter((op) => op !== LogicalNot).map(unaryConfig),
  preluConfig,
  logicalNotConfig,
  selectConfig,
  fillConfig(ZerosLike, 0),
  fillConfig(OnesLike, 1),
];
