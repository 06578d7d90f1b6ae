import * as tfl from "@tensorflow/tfjs-layers";
import { REPORT_REDUCE_LR, ReduceLROnPlateau, type EpochLogs } from "./callbacks";
import { KerasRMSprop, type ReportOptimizer } from "./optimizers";
import type { Schedule } from "./runs";

/** Display names, as the report writes the optimizers. */
export const OPTIMIZER_LABELS: Record<ReportOptimizer, "RMSprop" | "Adam"> = { rmsprop: "RMSprop", adam: "Adam" };

/** The report's final validation accuracies (优化器比较). */
export const REPORT_FINAL_ACCURACY: Record<"RMSprop" | "Adam", number> = { RMSprop: 0.9965, Adam: 0.9963 };

/** One line of the report's Keras log: `Epoch n/40` then `- 173s - loss: … - val_accuracy: …`. */
export interface ReportEpochLog {
  /** 1-based, as the report prints it. */
  epoch: number;
  seconds: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
}

/**
 * The first ten epochs of each optimizer exactly as the report's logs print them (模型评价, "RMSprop前十轮" and
 * "Adam前十轮"): the only per-epoch figures the report gives, drawn over our curves.
 */
export const REPORT_EPOCH_LOGS: { RMSprop: readonly ReportEpochLog[]; Adam: readonly ReportEpochLog[] } = {
  RMSprop: [
    { epoch: 1, seconds: 173, loss: 0.368, accuracy: 0.8847, val_loss: 0.4336, val_accuracy: 0.8721 },
    { epoch: 2, seconds: 175, loss: 0.112, accuracy: 0.9664, val_loss: 0.0279, val_accuracy: 0.9916 },
    { epoch: 3, seconds: 171, loss: 0.0795, accuracy: 0.9769, val_loss: 0.0255, val_accuracy: 0.9916 },
    { epoch: 4, seconds: 176, loss: 0.0662, accuracy: 0.9806, val_loss: 0.0295, val_accuracy: 0.9904 },
    { epoch: 5, seconds: 179, loss: 0.061, accuracy: 0.9827, val_loss: 0.0334, val_accuracy: 0.99 },
    { epoch: 6, seconds: 175, loss: 0.0537, accuracy: 0.9845, val_loss: 0.0224, val_accuracy: 0.9929 },
    { epoch: 7, seconds: 175, loss: 0.0463, accuracy: 0.9866, val_loss: 0.037, val_accuracy: 0.9886 },
    { epoch: 8, seconds: 173, loss: 0.0464, accuracy: 0.9865, val_loss: 0.0293, val_accuracy: 0.9911 },
    { epoch: 9, seconds: 171, loss: 0.0424, accuracy: 0.9876, val_loss: 0.0207, val_accuracy: 0.9936 },
    { epoch: 10, seconds: 169, loss: 0.0407, accuracy: 0.9884, val_loss: 0.0247, val_accuracy: 0.9932 },
  ],
  Adam: [
    { epoch: 1, seconds: 213, loss: 0.1126, accuracy: 0.9658, val_loss: 0.0865, val_accuracy: 0.9756 },
    { epoch: 2, seconds: 251, loss: 0.0786, accuracy: 0.9767, val_loss: 0.0299, val_accuracy: 0.9911 },
    { epoch: 3, seconds: 181, loss: 0.0681, accuracy: 0.9805, val_loss: 0.0253, val_accuracy: 0.9925 },
    { epoch: 4, seconds: 175, loss: 0.0577, accuracy: 0.9822, val_loss: 0.022, val_accuracy: 0.9933 },
    { epoch: 5, seconds: 176, loss: 0.0497, accuracy: 0.9856, val_loss: 0.0229, val_accuracy: 0.9931 },
    { epoch: 6, seconds: 172, loss: 0.0478, accuracy: 0.9862, val_loss: 0.0241, val_accuracy: 0.992 },
    { epoch: 7, seconds: 172, loss: 0.0438, accuracy: 0.9869, val_loss: 0.0209, val_accuracy: 0.9941 },
    { epoch: 8, seconds: 171, loss: 0.0424, accuracy: 0.9871, val_loss: 0.0196, val_accuracy: 0.9947 },
    { epoch: 9, seconds: 168, loss: 0.041, accuracy: 0.9878, val_loss: 0.0258, val_accuracy: 0.9916 },
    { epoch: 10, seconds: 165, loss: 0.0392, accuracy: 0.9881, val_loss: 0.0159, val_accuracy: 0.9943 },
  ],
};

/** The report's logged epochs as a history (Keras names, `epoch_seconds`), the shape our runs' histories have. */
export function reportHistory(optimizer: keyof typeof REPORT_EPOCH_LOGS): EpochLogs[] {
  return REPORT_EPOCH_LOGS[optimizer].map(({ epoch: _epoch, seconds, ...rest }) => ({ ...rest, epoch_seconds: seconds }));
}

/**
 * What the report's `ReduceLROnPlateau(monitor='val_acc', patience=3, factor=0.5, min_lr=0.00001)` prints
 * when replayed over the report's own RMSprop log: under `as-run` (monitor `val_acc`, which its logs do not
 * have) only Keras's warning; monitoring `val_accuracy` (`as-intended`), a reduction after epoch 5 — a line
 * the report's log does not show.
 */
export async function replayReportSchedule(schedule: Schedule, optimizer: keyof typeof REPORT_EPOCH_LOGS = "RMSprop"): Promise<string[]> {
  const lines: string[] = [];
  const callback = new ReduceLROnPlateau({
    ...REPORT_REDUCE_LR,
    monitor: schedule === "as-run" ? "val_acc" : "val_accuracy",
    log: (l) => lines.push(l),
  });
  // The callback needs a compiled model to hold the rate; a one-unit stand-in is enough.
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
  model.compile({ optimizer: new KerasRMSprop(0.001), loss: "meanSquaredError" });
  try {
    callback.setModel(model);
    await callback.onTrainBegin();
    for (const [e, log] of REPORT_EPOCH_LOGS[optimizer].entries()) {
      await callback.onEpochEnd(e, { loss: log.loss, accuracy: log.accuracy, val_loss: log.val_loss, val_accuracy: log.val_accuracy });
    }
  } finally {
    model.optimizer.dispose();
    model.dispose();
  }
  return lines;
}
