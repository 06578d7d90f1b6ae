// Where a training step and an inference batch of the report's CNN spend their time, per tfjs kernel (tf.profile),
// on the active backend. The PyTorch side of the same question: python3 bench/pytorch_cnn.py --profile.
// Run: npm run -s build && node dist/bench/profile_step.js [rmsprop|adam] [steps] [padding, e.g. sss] [float32|bfloat16]
// — prints a table and one JSON line.
import * as tf from "@tensorflow/tfjs-core";
import {
  buildReportCnn,
  compileReportCnn,
  initBackend,
  kernelTable,
  type KernelRow,
  machineInfo,
  makeOptimizer,
  paddingsOfReading,
  predictLean,
  profileTrainingStep,
  REPORT_PADDING_READING,
  setConvPrecision,
  type ConvPrecision,
  trainBatch,
  trainingStepKind,
  type ReportOptimizer,
} from "../lib";

function print(title: string, rows: KernelRow[], wallMs: number): void {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  process.stdout.write(`${title}: ${wallMs.toFixed(1)} ms wall, ${total.toFixed(1)} ms in kernels\n`);
  for (const r of rows.slice(0, 25))
    process.stdout.write(`  ${r.kernel.padEnd(28)} ${String(r.calls).padStart(5)} calls ${r.ms.toFixed(2).padStart(9)} ms\n`);
}

async function main(): Promise<void> {
  const optimizer = (process.argv[2] ?? "rmsprop") as ReportOptimizer;
  const steps = Number(process.argv[3] ?? 5);
  const padding = process.argv[4] ?? REPORT_PADDING_READING;
  const paddings = paddingsOfReading(padding);
  const precision = (process.argv[5] ?? "float32") as ConvPrecision;
  const report = await initBackend();
  const machine = machineInfo();
  const threads = report.onednn?.threads ?? 1;
  const isa = report.onednn?.isa ?? machine.isa;
  setConvPrecision(precision);
  process.stdout.write(
    `${machine.cpu}; backend ${report.active}, ${isa}, ${threads} threads; padding ${padding}; convolutions in ${precision}\n`,
  );
  const model = buildReportCnn({ seed: 42, paddings });
  compileReportCnn(model, makeOptimizer(optimizer));
  const x = tf.randomUniform([86, 28, 28, 1]);
  const y = tf.cast(tf.oneHot(tf.randomUniform([86], 0, 10, "int32"), 10), "float32");
  process.stdout.write(`training step: ${trainingStepKind(model)}\n`);
  for (let i = 0; i < 3; i++) await trainBatch(model, x, y);
  const split = await profileTrainingStep(model, x, y, steps);
  print(`train step (${optimizer}, batch 86)`, split.kernels, split.wallMs);
  process.stdout.write(
    `  split: convolutions ${split.convMs.toFixed(1)} ms (${(100 * split.convShare).toFixed(0)}% of the step), ` +
      `other kernels ${split.otherKernelsMs.toFixed(1)} ms, outside kernels ${split.outsideKernelsMs.toFixed(1)} ms ` +
      `(unprofiled wall time; under tf.profile a step took ${split.profiledWallMs.toFixed(1)} ms)\n`,
  );
  const xb = tf.randomUniform([1000, 28, 28, 1]);
  tf.dispose(predictLean(model, xb));
  const t0 = performance.now();
  const infer = await tf.profile(() => {
    const p = predictLean(model, xb);
    p.dataSync();
    p.dispose();
  });
  const inferWall = performance.now() - t0;
  const inferRows = kernelTable(infer.kernels, 1);
  print("inference (batch 1000)", inferRows, inferWall);
  process.stdout.write(
    `${JSON.stringify({
      machine,
      backend: report.active,
      isa,
      threads,
      optimizer,
      train: split,
      infer: { wallMs: inferWall, kernels: inferRows },
    })}\n`,
  );
  tf.dispose([x, y, xb]);
  model.optimizer.dispose();
  model.dispose();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
