import type { LogSink, TrainProgress } from "../lib";

// Training's output on the command line: Keras's lines on stdout and, when stdout is a terminal, a one-line
// progress bar in Keras's shape, redrawn in place and cleared before each line. The library only reports
// progress (onProgress); drawing it is the display's job, here and in the notebooks alike.

class TerminalProgressBar {
  private lastDraw = 0;
  private drawn = false;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(p: TrainProgress): void {
    const now = performance.now();
    if (p.batch < p.batches && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const done = Math.round((width * p.batch) / p.batches);
    const bar = "=".repeat(Math.max(0, done - 1)) + (done > 0 ? (p.batch < p.batches ? ">" : "=") : "") + ".".repeat(width - done);
    const eta = p.batch > 0 ? (p.seconds / p.batch) * (p.batches - p.batch) : 0;
    const metrics = p.phase === "train" ? ` - loss: ${p.loss.toFixed(4)} - accuracy: ${p.accuracy.toFixed(4)}` : " - validating";
    this.stream.write(`\r\x1b[K${p.batch}/${p.batches} [${bar}] - ETA: ${Math.round(eta)}s${metrics}`);
    this.drawn = true;
  }
  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}

const bar = process.stdout.isTTY ? new TerminalProgressBar(process.stdout) : undefined;

/**
 * The one log sink and progress callback of this process's trainings (one sink, so a warning said once is not said
 * again by the next run of a sweep).
 */
export const terminalTraining: { log: LogSink; onProgress?: (progress: TrainProgress) => void } = {
  log: (line) => {
    bar?.clear();
    process.stdout.write(`${line}\n`);
  },
  onProgress: bar ? (progress) => bar.update(progress) : undefined,
};
