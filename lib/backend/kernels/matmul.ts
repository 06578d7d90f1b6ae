// BatchMatMul and _FusedMatMul on oneDNN's sgemm (native/src/matmul.cc), bias and activation fused.
import { BatchMatMul, _FusedMatMul, backend_util } from "@tensorflow/tfjs-core";
import type { BatchMatMulAttrs, BatchMatMulInputs, _FusedMatMulAttrs, _FusedMatMulInputs } from "@tensorflow/tfjs-core";
import type { MatMulGeometry } from "../native_binding";
import type { NativeKernelArgs } from "./util";
import { f32, nativeKernel, output, sizeOf } from "./util";
import { noEpilogue, planEpilogue } from "./fused";

function matMul(args: NativeKernelArgs<BatchMatMulAttrs | _FusedMatMulAttrs, BatchMatMulInputs>, fused: boolean) {
  const { inputs, backend, attrs } = args;
  const a = f32(backend, inputs.a),
    b = f32(backend, inputs.b);
  const as = inputs.a?.shape,
    bs = inputs.b?.shape;
  if (!a || !b || !as || !bs || as.length < 2 || bs.length < 2) return null;
  const transposeA = Boolean(attrs.transposeA),
    transposeB = Boolean(attrs.transposeB);
  const m = transposeA ? as[as.length - 1] : as[as.length - 2];
  const k = transposeA ? as[as.length - 2] : as[as.length - 1];
  const k2 = transposeB ? bs[bs.length - 1] : bs[bs.length - 2];
  const n = transposeB ? bs[bs.length - 2] : bs[bs.length - 1];
  if (k !== k2) return null;
  const aBatchShape = as.slice(0, -2),
    bBatchShape = bs.slice(0, -2);
  const batchA = sizeOf(aBatchShape),
    batchB = sizeOf(bBatchShape);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  if (batchA === batchB && aBatchShape.join() !== bBatchShape.join() && aBatchShape.length === bBatchShape.length) return null;
  const batchShape = backend_util.assertAndGetBroadcastShape(aBatchShape, bBatchShape);
  const outShape = [...batchShape, m, n];
  // A bias of one value per column fuses; one that would add dimensions (rank above the output's) does not.
  const perColumn = (shape: readonly number[]) =>
    shape.length <= outShape.length && shape.length > 0 && shape[shape.length - 1] === n && sizeOf(shape.slice(0, -1)) === 1;
  const epilogue = fused
    ? planEpilogue(args as NativeKernelArgs<_FusedMatMulAttrs, _FusedMatMulInputs>, outShape, perColumn, (shape) => [...shape])
    : noEpilogue(backend);
  if (!epilogue) return null;
  const out = output(backend, outShape, "float32");
  if (sizeOf(outShape) === 0) return epilogue.finish(out.info);
  const geometry: MatMulGeometry = { batchA, batchB, m, n, k, transposeA, transposeB };
  backend.native.matMul(a, b, out.values, geometry, epilogue.bias, epilogue.activation, epilogue.alpha);
  return epilogue.finish(out.info);
}

export const batchMatMulConfig = nativeKernel<BatchMatMulAttrs, BatchMatMulInputs>(BatchMatMul, (args) => matMul(args, false));
export const fusedMatMulConfig = nativeKernel<_FusedMatMulAttrs, _FusedMatMulInputs>(_FusedMatMul, (args) => matMul(args, true));
