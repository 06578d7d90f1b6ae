// Dropout of the training step in one pass (native/src/dropout.cc); only the onednn backend has it.
import { f32, nativeKernel, output } from "./util";

/** Inputs {x}; attrs {rate, seed}; outputs [y, multiplier] (the backward pass is dy × multiplier). */
export const DROPOUT = "OnednnDropout";

export interface DropoutAttrs {
  rate: number;
  /** A uint32: the same seed gives the same mask. */
  seed: number;
}

export const dropoutConfig = nativeKernel<DropoutAttrs>(DROPOUT, ({ inputs, backend, attrs }) => {
  const x = f32(backend, inputs.x);
  if (!x) return null;
  const shape = [...inputs.x!.shape];
  const y = output(backend, shape, "float32"),
    multiplier = output(backend, shape, "float32");
  backend.native.dropout(x, y.values, multiplier.values, attrs.rate, attrs.seed);
  return [y.info, multiplier.info];
});
