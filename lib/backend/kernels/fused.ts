// The epilogue of FusedConv2D and _FusedMatMul (bias, activation), split between the native call and native
// broadcasting ops after it.
import { backend_util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeKernelArgs } from "./util";
import { f32 } from "./util";
import { ADD_OP, PRELU_OP, binaryInto, unaryActivation } from "./elementwise";

/** Activation codes of the fused native calls (native/src/activation.h); null for prelu (a binary op) and unknown ones. */
export function activationCode(activation: unknown, leakyreluAlpha: unknown): { code: number; alpha: number } | null {
  switch (activation ?? "linear") {
    case "linear":
      return { code: 0, alpha: 0 };
    case "relu":
      return { code: 1, alpha: 0 };
    case "relu6":
      return { code: 2, alpha: 0 };
    case "elu":
      return { code: 3, alpha: 1 };
    case "leakyrelu":
      return { code: 4, alpha: typeof leakyreluAlpha === "number" ? leakyreluAlpha : 0.2 };
    case "sigmoid":
      return { code: 5, alpha: 0 };
    default:
      return null;
  }
}

/** The bias and activation of a fused conv or matmul: what the native call fuses, and what runs after it. */
export interface Epilogue {
  /** A bias with one value per output channel (column), added inside the native call; else null. */
  bias: Float32Array | null;
  /** Activation code and alpha for the native call (0 when the activation runs after it). */
  code: number;
  alpha: number;
  /** Applies what the native call could not fuse (other bias shapes, an activation after them, PReLU). */
  finish: (y: TensorInfo) => TensorInfo;
}

/**
 * Plans a fused kernel's epilogue in tfjs-cpu's order: y + bias, then the activation. A bias holding one value
 * per channel (`perChannel`) and a plain activation run inside the native call; any other bias (scalar,
 * full-size) and PReLU run after it as native broadcasting ops. `align` gives the shape tfjs-cpu broadcasts a
 * bias or PReLU weight as (NCHW aligns rank-1 ones with channels). Null when an input is not float32 or the
 * activation is unknown; shapes that do not broadcast throw, as in tfjs-cpu, before anything is allocated.
 */
export function planEpilogue(
  args: NativeKernelArgs,
  outShape: readonly number[],
  perChannel: (shape: readonly number[]) => boolean,
  align: (shape: readonly number[]) => number[],
): Epilogue | null {
  const { inputs, backend, attrs } = args;
  const biasT = inputs.bias,
    preluT = attrs.activation === "prelu" ? inputs.preluActivationWeights : undefined;
  const bias = biasT ? f32(backend, biasT) : null;
  const prelu = preluT ? f32(backend, preluT) : null;
  if ((biasT && !bias) || (attrs.activation === "prelu" && !prelu)) return null;
  const act = prelu ? { code: 0, alpha: 0 } : activationCode(attrs.activation, attrs.leakyreluAlpha);
  if (!act) return null;
  const biasInside = bias !== null && perChannel(biasT!.shape);
  let shape = [...outShape];
  for (const t of [biasInside ? undefined : biasT, preluT]) if (t) shape = backend_util.assertAndGetBroadcastShape(shape, align(t.shape));
  const actInside = bias === null || biasInside;
  const finish = (y: TensorInfo): TensorInfo => {
    const next = (old: TensorInfo, t: TensorInfo) => {
      backend.disposeIntermediateTensorInfo(old);
      return t;
    };
    if (bias && !biasInside) y = next(y, binaryInto(backend, ADD_OP, y, bias, align(biasT!.shape)));
    if (!actInside && act.code !== 0) y = next(y, unaryActivation(backend, y, act.code, act.alpha));
    if (prelu) y = next(y, binaryInto(backend, PRELU_OP, y, prelu, align(preluT!.shape)));
    return y;
  };
  return { bias: biasInside ? bias : null, code: actInside ? act.code : 0, alpha: act.alpha, finish };
}

/** The epilogue of an unfused kernel: nothing. */
export const NO_EPILOGUE: Epilogue = { bias: null, code: 0, alpha: 0, finish: (y) => y };
