// Fused updates of the Keras-exact RMSprop and Adam (native/src/optimizer.cc): one kernel call for every variable of a
// step, where the op chain of lib/training/optimizers.ts takes nine (RMSprop) or fourteen (Adam) per variable, with
// bit-identical results. The attrs (typed in native_binding.ts) go to the addon as they are; it reads them by name.
import type * as tf from "@tensorflow/tfjs-core";
import type { OnednnBackend } from "../onednn_backend";
import type { KerasAdamUpdateAttrs, KerasRmspropUpdateAttrs } from "../native_binding";
import { f32, nativeKernel, output, sizeOf } from "./util";

/** Kernel names; only the onednn backend has them (lib/training/optimizers.ts falls back to tfjs ops elsewhere). */
export const KERAS_RMSPROP_UPDATE = "OnednnKerasRMSpropUpdate";
export const KERAS_ADAM_UPDATE = "OnednnKerasAdamUpdate";

/** The inputs of variable k are named `${input}${k}` (p0, g0, a0, p1, …); the kernel's inputs, by input name. */
function variableInputs(
  backend: OnednnBackend,
  inputs: Record<string, tf.TensorInfo | undefined>,
  names: readonly string[],
): { arrays: Float32Array[][]; shapes: number[][] } | null {
  const count = Object.keys(inputs).length / names.length;
  if (!Number.isInteger(count) || count === 0) return null;
  const arrays: Float32Array[][] = names.map(() => []);
  const shapes: number[][] = [];
  for (let k = 0; k < count; k++) {
    const first = inputs[`${names[0]}${k}`];
    if (!first) return null;
    const size = sizeOf(first.shape);
    for (const [i, name] of names.entries()) {
      const values = f32(backend, inputs[`${name}${k}`]);
      if (!values || values.length !== size) return null;
      arrays[i].push(values);
    }
    shapes.push([...first.shape]);
  }
  return { arrays, shapes };
}

/** Outputs `count` new float32 tensors of each shape, grouped per variable: [p0', s0', …, p1', s1', …]. */
function variableOutputs(backend: OnednnBackend, shapes: number[][], count: number): { infos: tf.TensorInfo[]; arrays: Float32Array[][] } {
  const arrays: Float32Array[][] = Array.from({ length: count }, () => []);
  const infos: tf.TensorInfo[] = [];
  for (const shape of shapes) {
    for (let i = 0; i < count; i++) {
      const out = output(backend, shape, "float32");
      infos.push(out.info);
      arrays[i].push(out.values);
    }
  }
  return { infos, arrays };
}

/** Inputs {p0, g0, a0, p1, …}; outputs [p0', a0', p1', a1', …]. */
export const kerasRmspropUpdateConfig = nativeKernel<KerasRmspropUpdateAttrs>(KERAS_RMSPROP_UPDATE, ({ inputs, backend, attrs }) => {
  const ins = variableInputs(backend, inputs, ["p", "g", "a"]);
  if (!ins) return null;
  const [p, g, a] = ins.arrays;
  const outs = variableOutputs(backend, ins.shapes, 2);
  backend.native.kerasRmspropUpdate(p, g, a, outs.arrays[0], outs.arrays[1], attrs);
  return outs.infos;
});

/** Inputs {p0, g0, m0, v0, p1, …}; outputs [p0', m0', v0', p1', …]. */
export const kerasAdamUpdateConfig = nativeKernel<KerasAdamUpdateAttrs>(KERAS_ADAM_UPDATE, ({ inputs, backend, attrs }) => {
  const ins = variableInputs(backend, inputs, ["p", "g", "m", "v"]);
  if (!ins) return null;
  const [p, g, m, v] = ins.arrays;
  const outs = variableOutputs(backend, ins.shapes, 3);
  backend.native.kerasAdamUpdate(p, g, m, v, outs.arrays[0], outs.arrays[1], outs.arrays[2], attrs);
  return outs.infos;
});
