import type { Command } from "commander";
import { MNIST_TRAIN_IMAGES, REPORT_PADDING_READING, defaultPytorchScript, formatBenchTable, paddingReadings, runBench } from "../../lib";
import { BACKEND_CHOICES, BACKEND_HELP, checkBatchSize, choiceOption, integerOption } from "../options";

interface BenchCliOptions {
  json?: boolean;
  steps: string;
  batchSize: string;
  padding: string;
  rounds: string;
  comparePytorch?: boolean;
  pytorchScript?: string;
  python: string;
  backend?: string;
}

/** `mnist-lab bench`: training and inference throughput of the report's CNN; the last line is one JSON object. */
export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description("measure training (RMSprop, Adam) and inference speed of the report's CNN; last line is JSON")
    .option("--json", "print only the JSON line")
    .option("--steps <n>", "timed training steps per optimizer, after 3 warm-up steps (PyTorch's too)", "20")
    .option("--batch-size <n>", "images per training step", "86")
    .option("--padding <reading>", "padding of conv 3–5 on both sides, e.g. sss (the earlier recipe's)", REPORT_PADDING_READING)
    .option("--compare-pytorch", "also run PyTorch's reference script in the same run and print ratios")
    .option("--rounds <n>", "alternate ours and PyTorch's this many times and keep each one's best (for a busy machine)", "1")
    .option("--pytorch-script <path>", `PyTorch reference script (default ${defaultPytorchScript()})`)
    .option("--python <path>", "Python interpreter with torch", "/usr/bin/python3")
    .option("--backend <name>", BACKEND_HELP)
    .action(async (opts: BenchCliOptions) => {
      const steps = integerOption("--steps", opts.steps, 1);
      const batchSize = integerOption("--batch-size", opts.batchSize, 1);
      checkBatchSize("--batch-size", batchSize, MNIST_TRAIN_IMAGES, "the MNIST training images");
      const rounds = integerOption("--rounds", opts.rounds, 1);
      const readings = paddingReadings().map((r) => r.name);
      choiceOption("--padding", opts.padding, readings);
      if (opts.backend !== undefined) choiceOption("--backend", opts.backend, BACKEND_CHOICES);
      const log = opts.json ? undefined : (line: string) => process.stdout.write(`${line}\n`);
      const result = await runBench({
        steps,
        batchSize,
        padding: opts.padding,
        rounds,
        backend: opts.backend,
        comparePytorch: opts.comparePytorch,
        pytorchScript: opts.pytorchScript,
        python: opts.python,
        log,
      });
      const { backendDiagnostics, ...figures } = result;
      void backendDiagnostics;
      if (!opts.json) process.stdout.write(formatBenchTable(figures));
      process.stdout.write(`${JSON.stringify(figures)}\n`);
    });
}
