import { MNIST_COLS, MNIST_NUM_CLASSES, MNIST_ROWS, classCounts, type Mnist, type MnistSplit } from "./data";
import { hasNaN } from "./preprocess";

export interface SplitSummary {
  count: number;
  classCounts: number[];
  /** Shapes after the report's preprocessing: images [N,28,28,1], one-hot labels [N,10]. */
  imageShape: number[];
  oneHotShape: number[];
  hasNaN: boolean;
}

export interface MnistSummary {
  sourceDir: string;
  sourceKind: Mnist["sourceKind"];
  files: Mnist["files"];
  checksums: Mnist["checksums"];
  loadMilliseconds: number;
  train: SplitSummary;
  test: SplitSummary;
}

/** What `mnist-lab data` prints and the data notebook shows: source, counts, class counts, shapes, NaN checks. */
export function summarizeMnist(mnist: Mnist): MnistSummary {
  const split = (s: MnistSplit): SplitSummary => ({
    count: s.count,
    classCounts: classCounts(s.labels),
    imageShape: [s.count, MNIST_ROWS, MNIST_COLS, 1],
    oneHotShape: [s.count, MNIST_NUM_CLASSES],
    hasNaN: hasNaN(s.images),
  });
  return {
    sourceDir: mnist.sourceDir,
    sourceKind: mnist.sourceKind,
    files: mnist.files,
    checksums: mnist.checksums,
    loadMilliseconds: Math.round(mnist.loadMilliseconds * 10) / 10,
    train: split(mnist.train),
    test: split(mnist.test),
  };
}

/** The summary as readable text lines. */
export function formatMnistSummary(s: MnistSummary): string {
  const pad = (values: number[]) => values.map((v) => String(v).padStart(5)).join(" ");
  return [
    `source     ${s.sourceDir} (${s.sourceKind})`,
    `checksums  ${s.checksums === "verified" ? "MD5 verified (original files)" : "not checked"}`,
    `loaded in  ${s.loadMilliseconds.toFixed(1)} ms`,
    `digit              ${pad([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])}`,
    `train ${String(s.train.count).padStart(6)} images ${pad(s.train.classCounts)}`,
    `test  ${String(s.test.count).padStart(6)} images ${pad(s.test.classCounts)}`,
    `shapes     x_train [${s.train.imageShape.join(", ")}]  x_test [${s.test.imageShape.join(", ")}]  ` +
      `y_train [${s.train.oneHotShape.join(", ")}]  y_test (${s.test.count},)`,
    `NaN        train ${s.train.hasNaN}, test ${s.test.hasNaN}`,
  ].join("\n");
}
