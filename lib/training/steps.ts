// Per-step history: the loss and accuracy of every training batch. Keras's verbose=2 lines show only epoch means;
// the report's first epochs (a head start, a collapse) can only be told apart inside the epoch. Kept in runs/<id>/
// and, gzipped, in results/<id>/, so the analyses rebuild from a clone.
import { gunzipSync, gzipSync } from "node:zlib";
import { MnistLabError } from "../shared/errors";

/** One training batch: `loss` is its mean loss, `correct` how many of its `size` images the model got right. */
export interface StepLog {
  /** 1-based. */
  epoch: number;
  /** 1-based within the epoch. */
  step: number;
  size: number;
  loss: number;
  correct: number;
}

const HEADER = "epoch,step,size,loss,correct";

/** CSV of the steps; the loss keeps 6 significant digits (float32 has about 7). */
export function formatStepsCsv(steps: readonly StepLog[]): string {
  const lines = [HEADER];
  for (const s of steps) lines.push(`${s.epoch},${s.step},${s.size},${Number(s.loss.toPrecision(6))},${s.correct}`);
  return `${lines.join("\n")}\n`;
}

/** Parses {@link formatStepsCsv}'s output; `file` names the source in errors. */
export function parseStepsCsv(text: string, file: string): StepLog[] {
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines[0] !== HEADER) throw new MnistLabError(`Expected ${file} to start with "${HEADER}" but found "${lines[0] ?? ""}"`);
  return lines.slice(1).map((line, i) => {
    const v = line.split(",").map(Number);
    if (v.length !== 5 || v.some((x) => !Number.isFinite(x) && !Number.isNaN(x))) {
      throw new MnistLabError(`Expected 5 numbers on line ${i + 2} of ${file} but found "${line}"`);
    }
    return { epoch: v[0], step: v[1], size: v[2], loss: v[3], correct: v[4] };
  });
}

export function gzipSteps(steps: readonly StepLog[]): Buffer {
  return gzipSync(formatStepsCsv(steps), { level: 9 });
}

export function gunzipSteps(data: Buffer, file: string): StepLog[] {
  return parseStepsCsv(gunzipSync(data).toString("utf8"), file);
}
