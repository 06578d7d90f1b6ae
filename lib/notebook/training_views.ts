// Ways to look at training runs in a notebook: the augmentation grid, the Keras log of a stored run and
// the final-metrics table. Plots of runs are in evaluation_plots.
import pl from "nodejs-polars";
import type { AugmentPreview } from "../training/augment";
import { formatEpochLine, type EpochLogs } from "../training/callbacks";
import type { StoredRun } from "../training/runs";

/** An AugmentPreview as one flat image array for showDigits: each original followed by its variants. */
export function previewGrid(preview: AugmentPreview): { images: Float32Array; captions: string[] } {
  const size = preview.height * preview.width;
  const count = preview.originals.length * (1 + (preview.augmented[0]?.length ?? 0));
  const images = new Float32Array(count * size);
  const captions: string[] = [];
  let k = 0;
  preview.originals.forEach((original, i) => {
    images.set(original, k++ * size);
    captions.push("original");
    preview.augmented[i].forEach((variant, j) => {
      images.set(variant, k++ * size);
      const p = preview.params[i][j];
      captions.push(`${p.thetaDegrees.toFixed(0)}° ×${((p.zx + p.zy) / 2).toFixed(2)}`);
    });
  });
  return { images, captions };
}

/** Keras verbose=2 lines for a run's stored history (`Epoch 1/40`, then the metrics line). */
export function historyLogLines(history: EpochLogs[], epochs = history.length): string[] {
  return history.flatMap((logs, i) => {
    // Without lr, as a fresh run logs them (Keras 2.3 prints none; the rate is in history.csv).
    const { epoch_seconds: seconds = 0, epoch: _epoch, lr: _lr, ...rest } = logs;
    return [`Epoch ${i + 1}/${epochs}`, formatEpochLine(seconds, rest)];
  });
}

/**
 * After trainRun in a notebook: a run that was only loaded from disk logged nothing, so print its stored
 * epochs; a trained or resumed one already logged them. Either way end with one summary line.
 */
export function printRunLog(run: StoredRun & { status?: string; resumedFromEpoch?: number }): void {
  // trainRun already said where a loaded run came from; its epochs are shown as they were logged.
  if (run.status === "loaded") for (const line of historyLogLines(run.history, run.config.epochs)) console.log(line);
  const m = run.metrics;
  if (m) {
    console.log(
      `${run.config.optimizer}: val_accuracy ${m.valAccuracy.toFixed(4)} (best ${m.bestValAccuracy.toFixed(4)} at epoch ${m.bestEpoch}), ` +
        `${m.secondsPerEpoch.toFixed(1)} s/epoch on ${m.backends.join(", ")}`,
    );
  }
}

/** One row per run: the final and best validation accuracy, loss, learning rate and time. */
export function runSummaryFrame(runs: Record<string, StoredRun>): pl.DataFrame {
  const entries = Object.entries(runs).filter(([, r]) => r.metrics);
  const m = (f: (x: NonNullable<StoredRun["metrics"]>) => number | string) => entries.map(([, r]) => f(r.metrics!));
  return pl.DataFrame({
    optimizer: entries.map(([name]) => name),
    epochs: m((x) => x.epochsCompleted),
    "train images": m((x) => x.trainCount),
    val_accuracy: m((x) => x.valAccuracy),
    "best val_accuracy": m((x) => x.bestValAccuracy),
    "best epoch": m((x) => x.bestEpoch),
    val_loss: m((x) => x.valLoss),
    "final lr": m((x) => x.finalLearningRate),
    "s/epoch": m((x) => Math.round(x.secondsPerEpoch * 10) / 10),
    backend: m((x) => x.backends.join(", ")),
  });
}
