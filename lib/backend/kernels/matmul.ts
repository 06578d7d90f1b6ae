// BatchMatMul and _FusedMatMul on oneDNN's sgemm (native/src/matmul.cc), bias and activation fused.
import { backend_util } from "@tensorflow/tfjs-core";
import type { NativeKernelArgs, NativeKernelConfig } from "./util";
import { f32, fusedEpilogue, output, sizeOf } from "./util";

function matMul(args: NativeKernelArgs, fused: boolean) {
  const { inputs, backend, attrs } = args;
  const a = f32(backend, inputs.a), b = f32(backend, inputs.b);
  const as = inputs.a?.shape, bs = inputs.b?.shape;
  if (!a || !b || !as || !bs || as.length < 2 || bs.length < 2) return null;
  const ta = Boolean(attrs.transposeA), tb = Boolean(attrs.transposeB);
  const m = ta ? as[as.length - 1] : as[as.length - 2];
  const k = ta ? as[as.length - 2] : as[as.length - 1];
  const k2 = tb ? bs[bs.length - 1] : bs[bs.length - 2];
  const n = tb ? bs[bs.length - 2] : bs[bs.length - 1];
  if (k !== k2) return null;
  const aBatchShape = as.slice(0, -2), bBatchShape = bs.slice(0, -2);
  const batchA = sizeOf(aBatchShape), batchB = sizeOf(bBatchShape);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  if (batchA === batchB && aBatchShape.join() !== bBatchShape.join() && aBatchShape.length === bBatchShape.length) return null;
  const batchShape = backend_util.assertAndGetBroadcastShape(aBatchShape, bBatchShape);
  if (batchA === 0 || batchB === 0) return null;
  const epilogue = fusedEpilogue(args, fused, (bias, shape) => bias.length === n && (shape.length <= 1 || sizeOf(shape.slice(0, -1)) === 1));
  if (!epilogue) return null;
  const { bias, act } = epilogue;
  const out = output(backend, [...batchShape, m, n], "float32");
  backend.native.matMul(a, b, out.values, batchA, batchB, m, n, k, ta, tb, bias, act.code, act.alpha);
  return out.info;
}

export const batchMatMulConfig: NativeKernelConfig = { kernelName: "BatchMatMul", kernelFunc: (args) => matMul(args, false) };
export const fusedMatMulConfig: NativeKernelConfig = { kernelName: "_FusedMatMul", kernelFunc: (args) => matMul(args, true) };
