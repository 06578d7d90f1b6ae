// The benchmark's shape (not its speed: figures are printed, never asserted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defaultPytorchScript, formatBenchTable, machineInfo, runBench } from "mnist-lab";

const root = path.join(__dirname, "..");
const python = "/usr/bin/python3";
const hasPython = fs.existsSync(python);

/** A stand-in for pytorch_cnn.py that logs its arguments and answers with figures that grow per call. */
function stubScript(dir: string): { script: string; calls: () => string[][] } {
  const logFile = path.join(dir, "calls.jsonl");
  const script = path.join(dir, "stub_cnn.py");
  fs.writeFileSync(
    script,
    [
      "import json, sys",
      `log = ${JSON.stringify(logFile)}`,
      "with open(log, 'a') as f: f.write(json.dumps(sys.argv[1:]) + '\\n')",
      "n = sum(1 for _ in open(log))",
      "print('progress noise')",
      // The parameters of the model it was asked for (Keras's count), or 0 for a reading it does not know.
      "padding = sys.argv[sys.argv.index('--padding') + 1]",
      "parameters = {'vvs': 350090, 'sss': 694154}.get(padding, 0)",
      "print(json.dumps({'engine': 'pytorch stub', 'cpu': 'stub cpu', 'isa': 'avx2', 'aten_isa': 'avx2', 'threads': 2,",
      "  'parameters': parameters, 'train_images_per_s': 10.0 * n, 'infer_images_per_s': 100.0 * n, 'peak_rss_mib': 50.0 + n}))",
    ].join("\n"),
  );
  return {
    script,
    calls: () =>
      fs
        .readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]),
  };
}

const arg = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

test("runBench steps=2 batch=8 rounds=2 reports positive speeds, CPU, ISA and threads, flat tensor counts, and leaks nothing", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  const before = tf.memory().numTensors;
  const result = await runBench({ backend: "onednn", steps: 2, warmupSteps: 1, batchSize: 8, inferBatchSize: 16, rounds: 2 });
  // Logits a plain inference recorded and nobody took go at the next turn of the event loop (lib/model/loss.ts).
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(tf.memory().numTensors, before);
  assert.equal(result.backend, "onednn");
  assert.deepEqual(result.machine, machineInfo());
  assert.match(result.isa, /^(avx512|avx2|avx|sse4\.1)$/);
  assert.ok(result.threads >= 1);
  assert.ok(result.trainImagesPerSec.rmsprop > 0 && result.trainImagesPerSec.adam > 0);
  assert.ok(result.inferImagesPerSec > 0 && result.peakRssMiB > 0);
  assert.equal(result.numTensors.adam.end, result.numTensors.adam.afterWarmup);
  assert.equal(result.pytorch, undefined);
  for (const split of Object.values(result.stepSplit)) {
    // The split covers the unprofiled step; tf.profile's own cost stays out of it.
    assert.ok(split.wallMs > 0 && split.profiledWallMs > 0 && split.convMs > 0, JSON.stringify(split));
    assert.ok(split.convMs + split.otherKernelsMs + split.outsideKernelsMs >= split.wallMs - 0.02, JSON.stringify(split));
  }
});

test(
  "runBench comparePytorch rounds=2 gives PyTorch's script the same warm-up, steps, batch, inference and threads, " +
    "alternating who goes first",
  { skip: !hasPython && `no ${python}` },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-bench-"));
    try {
      const stub = stubScript(dir);
      const lines: string[] = [];
      const result = await runBench({
        backend: "onednn",
        steps: 2,
        warmupSteps: 1,
        batchSize: 8,
        inferBatchSize: 16,
        inferRepeats: 3,
        rounds: 2,
        comparePytorch: true,
        pytorchScript: stub.script,
        python,
        log: (l) => lines.push(l),
      });
      const calls = stub.calls();
      assert.deepEqual(
        calls.map((c) => arg(c, "--optimizer")),
        ["rmsprop", "adam", "rmsprop", "adam"],
      );
      for (const c of calls) {
        assert.deepEqual(
          [
            arg(c, "--warmup"),
            arg(c, "--steps"),
            arg(c, "--batch"),
            arg(c, "--infer-batch"),
            arg(c, "--infer-repeats"),
            arg(c, "--threads"),
            arg(c, "--padding"),
          ],
          ["1", "2", "8", "16", "3", String(result.threads), "vvs"],
        );
      }
      const order = lines.filter((l) => /^ {2}(ours|pytorch stub) (rmsprop|adam):/.test(l)).map((l) => l.trim().split(":")[0]);
      assert.deepEqual(order, [
        "ours rmsprop",
        "pytorch stub rmsprop",
        "ours adam",
        "pytorch stub adam",
        "pytorch stub rmsprop",
        "ours rmsprop",
        "pytorch stub adam",
        "ours adam",
      ]);
      // Best of the rounds: the stub's figures grow per call, so its last call of each optimizer wins.
      assert.deepEqual(result.pytorch, {
        engine: "pytorch stub",
        isa: "avx2",
        atenIsa: "avx2",
        threads: 2,
        trainImagesPerSec: { rmsprop: 30, adam: 40 },
        inferImagesPerSec: 400,
        peakRssMiB: 54,
      });
      assert.equal(result.ratios!.trainAdam, Math.round((result.trainImagesPerSec.adam / 40) * 100) / 100);
      const table = formatBenchTable(result);
      assert.ok(table.includes(`CPU: ${result.machine.cpu}, ${result.machine.isa}`), table);
      assert.ok(table.includes(`${result.isa}, ${result.threads} threads`), table);
      assert.ok(table.includes("avx2 (ATen avx2), 2 threads"), table);
      assert.match(table, /train Adam \(img\/s\) +[\d.]+ +40 +[\d.]+×/);
      assert.ok(table.includes("model: the report's CNN, padding vvs (350,090 parameters)"), table);

      // A script that trained another model than ours is refused, not compared.
      await assert.rejects(
        runBench({
          backend: "onednn",
          steps: 1,
          warmupSteps: 1,
          batchSize: 8,
          inferBatchSize: 16,
          padding: "svs",
          comparePytorch: true,
          pytorchScript: stub.script,
          python,
        }),
        /^Error: Expected PyTorch's model to have our \d+ parameters \(padding svs\) but found 0$/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("defaultPytorchScript is bench/pytorch_cnn.py in this repository", () => {
  assert.equal(defaultPytorchScript(), path.join(root, "bench", "pytorch_cnn.py"));
  assert.ok(fs.existsSync(defaultPytorchScript()));
});

test("runBench comparePytorch with an interpreter lacking torch fails naming the fix", { skip: !hasPython && `no ${python}` }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-bench-"));
  try {
    const script = path.join(dir, "no_torch.py");
    fs.writeFileSync(script, "import sys\nsys.stderr.write(\"ModuleNotFoundError: No module named 'torch'\\n\")\nsys.exit(1)\n");
    await assert.rejects(
      runBench({
        backend: "onednn",
        steps: 1,
        warmupSteps: 0,
        batchSize: 4,
        inferBatchSize: 4,
        comparePytorch: true,
        pytorchScript: script,
        python,
      }),
      /exited with 1: ModuleNotFoundError: No module named 'torch'\nPossible solutions:\n- apt-get install -y python3-torch/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("mnist-lab bench --json --steps 1 --batch-size 4 prints one JSON object on the last line", () => {
  const r = spawnSync(
    process.execPath,
    [path.join(root, "bin", "mnist-lab"), "bench", "--json", "--steps", "1", "--batch-size", "4", "--backend", "onednn"],
    { cwd: root, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const figures = JSON.parse(r.stdout.trim().split("\n").pop()!);
  for (const key of ["machine", "isa", "threads", "backend", "trainImagesPerSec", "inferImagesPerSec", "epochSeconds", "peakRssMiB"])
    assert.ok(key in figures, key);
});

test("mnist-lab bench --compare-pytorch with a missing script fails naming the path", () => {
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, "bin", "mnist-lab"),
      "bench",
      "--steps",
      "1",
      "--batch-size",
      "4",
      "--compare-pytorch",
      "--pytorch-script",
      "/nonexistent/pytorch_cnn.py",
    ],
    { cwd: root, encoding: "utf8" },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Expected PyTorch's reference script at \/nonexistent\/pytorch_cnn.py/);
});
