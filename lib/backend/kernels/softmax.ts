// Softmax over the last axis (native/src/softmax.cc).
import { Softmax } from "@tensorflow/tfjs-core";
import type { SoftmaxAttrs, SoftmaxInputs } from "@tensorflow/tfjs-core";
import { f32, nativeKernel, output, sizeOf } from "./util";

export const softmaxConfig = nativeKernel<SoftmaxAttrs, SoftmaxInputs>(Softmax, ({ inputs, backend, attrs }) => {
  const x = f32(backend, inputs.logits);
  const shape = inputs.logits?.shape;
  if (!x || !shape || shape.length === 0) return null;
  const dim = Number(attrs.dim ?? -1);
  if (dim !== -1 && dim !== shape.length - 1) return null;
  const cols = shape[shape.length - 1];
  const out = output(backend, [...shape], "float32");
  backend.native.softmax(x, out.values, sizeOf(shape.slice(0, -1)), cols);
  return out.info;
});
