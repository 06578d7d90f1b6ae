// Gradients that tfjs computes wastefully for this backend, replaced while the onednn backend is active
// (other backends keep tfjs's own): Sum and Mean build a full-size ones tensor in a JS loop to broadcast dy,
// FusedBatchNorm's gradient takes about fourteen full-size ops where one native kernel takes two passes,
// and Relu's takes two (step, multiply) where one does.
import * as tf from "@tensorflow/tfjs-core";
import { BATCH_NORM_GRAD, RELU_GRAD } from "./kernels";

let installed = false;

function expandedDy(dy: tf.Tensor, x: tf.Tensor, axis: unknown): { dy: tf.Tensor; reduceSize: number } {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const shape = x.shape.slice();
  let reduceSize = 1;
  for (const a of axes) {
    reduceSize *= shape[a];
    shape[a] = 1;
  }
  return { dy: tf.reshape(dy, shape), reduceSize };
}

/** Installs the replacements once; `backendName` is the backend they apply to. */
export function installOnednnGradients(backendName: string): void {
  if (installed) return;
  installed = true;
  const active = () => tf.getBackend() === backendName;

  const sum = tf.getGradient("Sum");
  tf.registerGradient({
    ...sum,
    gradFunc: (dy, saved, attrs) => {
      if (!active()) return sum.gradFunc(dy, saved, attrs);
      const x = saved[0];
      // Same values as tfjs's mul(dy, ones(x.shape)): broadcasting by Tile is exact.
      return { x: () => tf.broadcastTo(expandedDy(dy as tf.Tensor, x, attrs.axis).dy, x.shape) };
    },
  });

  const mean = tf.getGradient("Mean");
  tf.registerGradient({
    ...mean,
    gradFunc: (dy, saved, attrs) => {
      if (!active()) return mean.gradFunc(dy, saved, attrs);
      const x = saved[0];
      return {
        x: () => {
          const e = expandedDy(dy as tf.Tensor, x, attrs.axis);
          return tf.broadcastTo(tf.div(e.dy, e.reduceSize), x.shape);
        },
      };
    },
  });

  const relu = tf.getGradient("Relu");
  tf.registerGradient({
    ...relu,
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const d = dy as tf.Tensor;
      if (!active() || x.dtype !== "float32" || d.dtype !== "float32" || x.size !== d.size) return relu.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: d, x }) as tf.Tensor };
    },
  });

  const batchNorm = tf.getGradient("FusedBatchNorm");
  tf.registerGradient({
    ...batchNorm,
    gradFunc: (dy, saved, attrs) => {
      const [x, m, variance, scale] = saved;
      const channels = m.shape.length === 1 ? m.shape[0] : -1;
      const perChannel = (t: tf.Tensor | undefined) => t == null || (t.shape.length === 1 && t.shape[0] === channels);
      const eligible =
        active() &&
        channels > 0 &&
        x.shape[x.shape.length - 1] === channels &&
        perChannel(variance) &&
        perChannel(scale) &&
        [dy as tf.Tensor, x, m, variance, scale].every((t) => t == null || t.dtype === "float32");
      if (!eligible) return batchNorm.gradFunc(dy, saved, attrs);
      const inputs: tf.NamedTensorMap = { dy: dy as tf.Tensor, x, mean: m, variance };
      if (scale != null) inputs.scale = scale;
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD, inputs, attrs) as tf.Tensor[];
      return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
    },
  });
}
