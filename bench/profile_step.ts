// Where a training step and an inference batch of the report's CNN spend their time, per tfjs kernel (tf.profile),
// on the active backend. The PyTorch side of the same question: python3 bench/pytorch_cnn.py --profile.
// Run: npm run -s build && node dist/bench/profile_step.js [rmsprop|adam] [steps] — prints a table and one JSON line.
import * as tf from "@tensorflow/tfjs-core";
import {
  buildReportCnn,
  compileReportCnn,
  initBackend,
  machineInfo,
  makeOptimizer,
  predictLean,
  trainBatch,
  trainingStepKind,
  type ReportOptimizer,
} from "../lib";

interface Row {
  kernel: string;
  calls: number;
  ms: number;
}

// tf.profile has awaited every kernelTimeMs by the time it returns.
function table(kernels: Array<{ name: string; kernelTimeMs: unknown }>, steps: number): Row[] {
  const by = new Map<string, Row>();
  for (const k of kernels) {
    // tfjs also records an op-level wrapper (`fusedConv2d__op`) around the kernel it runs: counted once.
    if (k.name.endsWith("__op")) continue;
    const row = by.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    by.set(k.name, row);
  }
  return [...by.values()]
    .map((r) => ({ kernel: r.kernel, calls: r.calls / steps, ms: Math.round((r.ms / steps) * 100) / 100 }))
    .sort((a, b) => b.ms - a.ms);
}

function print(title: string, rows: Row[], wallMs: number): void {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  process.stdout.write(`${title}: ${wallMs.toFixed(1)} ms wall, ${total.toFixed(1)} ms in kernels\n`);
  for (const r of rows.slice(0, 25))
    process.stdout.write(`  ${r.kernel.padEnd(28)} ${String(r.calls).padStart(5)} calls ${r.ms.toFixed(2).padStart(9)} ms\n`);
}

async function main(): Promise<void> {
  const optimizer = (process.argv[2] ?? "rmsprop") as ReportOptimizer;
  const steps = Number(process.argv[3] ?? 5);
  const report = await initBackend();
  const machine = machineInfo();
  const threads = report.onednn?.threads ?? 1;
  const isa = report.onednn?.isa ?? machine.isa;
  process.stdout.write(`${machine.cpu}; backend ${report.active}, ${isa}, ${threads} threads\n`);
  const model = buildReportCnn({ seed: 42 });
  compileReportCnn(model, makeOptimizer(optimizer));
  const x = tf.randomUniform([86, 28, 28, 1]);
  const y = tf.cast(tf.oneHot(tf.randomUniform([86], 0, 10, "int32"), 10), "float32");
  process.stdout.write(`training step: ${trainingStepKind(model)}\n`);
  for (let i = 0; i < 3; i++) await trainBatch(model, x, y);
  let t0 = performance.now();
  const train = await tf.profile(async () => {
    for (let i = 0; i < steps; i++) await trainBatch(model, x, y);
  });
  const trainWall = (performance.now() - t0) / steps;
  const trainRows = table(train.kernels, steps);
  print(`train step (${optimizer}, batch 86)`, trainRows, trainWall);
  const xb = tf.randomUniform([1000, 28, 28, 1]);
  tf.dispose(predictLean(model, xb));
  t0 = performance.now();
  const infer = await tf.profile(() => {
    const p = predictLean(model, xb);
    p.dataSync();
    p.dispose();
  });
  const inferWall = performance.now() - t0;
  const inferRows = table(infer.kernels, 1);
  print("inference (batch 1000)", inferRows, inferWall);
  process.stdout.write(
    `${JSON.stringify({
      machine,
      backend: report.active,
      isa,
      threads,
      optimizer,
      train: { wallMs: trainWall, kernels: trainRows },
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
