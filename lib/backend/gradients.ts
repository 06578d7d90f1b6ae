// Gradients that tfjs computes wastefully for this backend, replaced while the onednn backend is active
// (other backends keep tfjs's own): Sum and Mean build a full-size ones tensor in a JS loop to broadcast dy,
// FusedBatchNorm's gradient takes about fourteen full-size ops where one native kernel takes two passes,
// and Relu's takes two (step, multiply) where one does. Our fused softmax cross-entropy gets its gradient here too.
import * as tf from "@tensorflow/tfjs-core";
import { FusedBatchNorm, Mean, Relu, Sum } from "@tensorflow/tfjs-core";
import type { MeanAttrs, SumAttrs } from "@tensorflow/tfjs-core";
import { BATCH_NORM_GRAD, RELU_GRAD, SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from "./kernels";

let installed = false;

function expandedDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): { dy: tf.Tensor; reduceSize: number } {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  let reduceSize = 1;
  for (const a of axes) {
    reduceSize *= shape[a];
    shape[a] = 1;
  }
  return { dy: tf.reshape(dy, shape), reduceSize };
}

type GradResult = { [name: string]: () => tf.Tensor };

/**
 * Replaces kernel `name`'s gradient: `ours` runs while the onednn backend is active and returns null for inputs it
 * leaves to tfjs's own gradient, which runs everywhere else.
 */
function replaceGradient(
  name: string,
  active: () => boolean,
  ours: (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => GradResult | null,
): void {
  const theirs = tf.getGradient(name);
  tf.registerGradient({
    ...theirs,
    gradFunc: (dy, saved, attrs) => (active() ? ours(dy as tf.Tensor, saved, attrs) : null) ?? theirs.gradFunc(dy, saved, attrs),
  });
}

/** Installs the replacements once; `backendName` is the backend they apply to. */
export function installOnednnGradients(backendName: string): void {
  if (installed) return;
  installed = true;
  // Only onednn has this kernel: its gradient, dy × (softmax − labels), from the softmax its forward pass saved.
  tf.registerGradient({
    kernelName: SOFTMAX_CROSS_ENTROPY,
    inputsToSave: ["labels"],
    outputsToSave: [false, true],
    gradFunc: (dy, [labels, softmax]) => ({
      logits: () => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { dy: (dy as tf.Tensor[])[0], softmax, labels }) as tf.Tensor,
      // The labels are data: nothing trains them.
      labels: () => tf.zerosLike(labels),
    }),
  });
  const active = () => tf.getBackend() === backendName;

  // Same values as tfjs's mul(dy, ones(x.shape)): broadcasting by Tile is exact.
  replaceGradient(Sum, active, (dy, [x], attrs) => ({
    x: () => tf.broadcastTo(expandedDy(dy, x, (attrs as unknown as SumAttrs).axis).dy, x.shape),
  }));

  replaceGradient(Mean, active, (dy, [x], attrs) => ({
    x: () => {
      const e = expandedDy(dy, x, (attrs as unknown as MeanAttrs).axis);
      return tf.broadcastTo(tf.div(e.dy, e.reduceSize), x.shape);
    },
  }));

  replaceGradient(Relu, active, (dy, [x]) =>
    x.dtype !== "float32" || dy.dtype !== "float32" || x.size !== dy.size
      ? null
      : { x: () => tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor },
  );

  replaceGradient(FusedBatchNorm, active, (dy, [x, m, variance, scale], attrs) => {
    const channels = m.shape.length === 1 ? m.shape[0] : -1;
    const perChannel = (t: tf.Tensor | undefined) => t == null || (t.shape.length === 1 && t.shape[0] === channels);
    const eligible =
      channels > 0 &&
      x.shape[x.shape.length - 1] === channels &&
      perChannel(variance) &&
      perChannel(scale) &&
      [dy, x, m, variance, scale].every((t) => t == null || t.dtype === "float32");
    if (!eligible) return null;
    const inputs: tf.NamedTensorMap = { dy, x, mean: m, variance };
    if (scale != null) inputs.scale = scale;
    const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD, inputs, attrs) as tf.Tensor[];
    return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
  });
}
