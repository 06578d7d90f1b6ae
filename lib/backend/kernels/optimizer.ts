// Fused updates of the Keras-exact RMSprop and Adam (native/src/optimizer.cc): one kernel per variable where the
// op chain of lib/training/optimizers.ts takes nine (RMSprop) or fourteen (Adam), with bit-identical results. The
// attrs (typed in native_binding.ts) go to the addon as they are; it reads them by name.
import type { KerasAdamUpdateAttrs, KerasRmspropUpdateAttrs } from "../native_binding";
import { f32, nativeKernel, output } from "./util";

/** Kernel names; only the onednn backend has them (lib/training/optimizers.ts falls back to tfjs ops elsewhere). */
export const KERAS_RMSPROP_UPDATE = "OnednnKerasRMSpropUpdate";
export const KERAS_ADAM_UPDATE = "OnednnKerasAdamUpdate";

/** Inputs {p, g, a}; outputs [p', a']. */
export const kerasRmspropUpdateConfig = nativeKernel<KerasRmspropUpdateAttrs>(KERAS_RMSPROP_UPDATE, ({ inputs, backend, attrs }) => {
  const p = f32(backend, inputs.p),
    g = f32(backend, inputs.g),
    a = f32(backend, inputs.a);
  if (!p || !g || !a || g.length !== p.length || a.length !== p.length) return null;
  const shape = [...inputs.p!.shape];
  const pOut = output(backend, shape, "float32"),
    aOut = output(backend, shape, "float32");
  backend.native.kerasRmspropUpdate(p, g, a, pOut.values, aOut.values, attrs);
  return [pOut.info, aOut.info];
});

/** Inputs {p, g, m, v}; outputs [p', m', v']. */
export const kerasAdamUpdateConfig = nativeKernel<KerasAdamUpdateAttrs>(KERAS_ADAM_UPDATE, ({ inputs, backend, attrs }) => {
  const p = f32(backend, inputs.p),
    g = f32(backend, inputs.g),
    m = f32(backend, inputs.m),
    v = f32(backend, inputs.v);
  if (!p || !g || !m || !v || g.length !== p.length || m.length !== p.length || v.length !== p.length) return null;
  const shape = [...inputs.p!.shape];
  const pOut = output(backend, shape, "float32"),
    mOut = output(backend, shape, "float32"),
    vOut = output(backend, shape, "float32");
  backend.native.kerasAdamUpdate(p, g, m, v, pOut.values, mOut.values, vOut.values, attrs);
  return [pOut.info, mOut.info, vOut.info];
});
