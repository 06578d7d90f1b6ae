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

/** The cross-entropy of a softmax from its logits, per row, and the softmax it saves for the gradient (one pass). */
export const SOFTMAX_CROSS_ENTROPY = "OnednnSoftmaxCrossEntropy";
/** Its gradient with respect to the logits: dy × (softmax − labels), one pass. */
export const SOFTMAX_CROSS_ENTROPY_GRAD = "OnednnSoftmaxCrossEntropyGrad";

export const softmaxCrossEntropyConfig = nativeKernel(SOFTMAX_CROSS_ENTROPY, ({ inputs, backend }) => {
  const logits = f32(backend, inputs.logits);
  const labels = f32(backend, inputs.labels);
  const shape = inputs.logits?.shape;
  if (!logits || !labels || shape?.length !== 2 || inputs.labels?.shape.join() !== shape.join()) return null;
  const [rows, cols] = shape;
  const loss = output(backend, [rows], "float32");
  const softmax = output(backend, [rows, cols], "float32");
  backend.native.softmaxCrossEntropy(logits, labels, loss.values, softmax.values, rows, cols);
  return [loss.info, softmax.info];
});

export const softmaxCrossEntropyGradConfig = nativeKernel(SOFTMAX_CROSS_ENTROPY_GRAD, ({ inputs, backend }) => {
  const dy = f32(backend, inputs.dy);
  const softmax = f32(backend, inputs.softmax);
  const labels = f32(backend, inputs.labels);
  const shape = inputs.softmax?.shape;
  if (!dy || !softmax || !labels || shape?.length !== 2 || inputs.dy?.shape.join() !== String(shape[0])) return null;
  const [rows, cols] = shape;
  const out = output(backend, [rows, cols], "float32");
  backend.native.softmaxCrossEntropyGrad(dy, softmax, labels, out.values, rows, cols);
  return out.info;
});
