// The epilogue of FusedConv2D and _FusedMatMul (bias, activation), split between the native call and native
// broadcasting ops after it.
import { Add, Prelu, backend_util } from "@tensorflow/tfjs-core";
import type { FusedConv2DAttrs, NamedTensorInfoMap, TensorInfo, _FusedMatMulAttrs } from "@tensorflow/tfjs-core";
import type { ActivationName } from "../native_binding";
import type { OnednnBackend } from "../onednn_backend";
import type { NativeKernelArgs } from "./util";
import { f32 } from "./util";
import { binaryInto, unaryActivation } from "./elementwise";

/** The activation a fused native call can apply itself, with its alpha; null for prelu (a binary op) and unknown ones. */
export function nativeActivation(
  activation: backend_util.Activation | undefined,
  leakyreluAlpha: number | undefined,
): { name: ActivationName; alpha: number } | null {
  const name = activation ?? "linear";
  switch (name) {
    case "linear":
    case "relu":
    case "relu6":
    case "sigmoid":
      return { name, alpha: 0 };
    case "elu":
      return { name: "elu", alpha: 1 };
    case "leakyrelu":
      return { name: "leakyrelu", alpha: typeof leakyreluAlpha === "number" ? leakyreluAlpha : 0.2 };
    default:
      return null;
  }
}

/** The bias and activation of a fused conv or matmul: what the native call fuses, and what runs after it. */
export interface Epilogue {
  /** A bias with one value per output channel (column), added inside the native call; else null. */
  bias: Float32Array | null;
  /** The native call's activation (an `enums.activation` code; linear when the activation runs after it) and alpha. */
  activation: number;
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
  args: NativeKernelArgs<FusedConv2DAttrs | _FusedMatMulAttrs, NamedTensorInfoMap>,
  outShape: readonly number[],
  perChannel: (shape: readonly number[]) => boolean,
  align: (shape: readonly number[]) => number[],
): Epilogue | null {
  const { inputs, backend, attrs } = args;
  const codes = backend.native.enums.activation;
  const biasT = inputs.bias,
    preluT = attrs.activation === "prelu" ? inputs.preluActivationWeights : undefined;
  const bias = biasT ? f32(backend, biasT) : null;
  const prelu = preluT ? f32(backend, preluT) : null;
  if ((biasT && !bias) || (attrs.activation === "prelu" && !prelu)) return null;
  const act = prelu ? nativeActivation("linear", 0) : nativeActivation(attrs.activation, attrs.leakyreluAlpha);
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
    if (bias && !biasInside) y = next(y, binaryInto(backend, Add, y, bias, align(biasT!.shape)));
    if (!actInside && act.name !== "linear") y = next(y, unaryActivation(backend, y, act.name, act.alpha));
    if (prelu) y = next(y, binaryInto(backend, Prelu, y, prelu, align(preluT!.shape)));
    return y;
  };
  return { bias: biasInside ? bias : null, activation: codes[actInside ? act.name : "linear"], alpha: act.alpha, finish };
}

/** The epilogue of an unfused kernel: nothing. */
export function noEpilogue(backend: OnednnBackend): Epilogue {
  return { bias: null, activation: backend.native.enums.activation.linear, alpha: 0, finish: (y) => y };
}
