import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { TrainingInterrupted, trainRun, type TrainConfigInput } from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, useCpuBackend } from "./helpers/train_fixtures";

test.before(useCpuBackend);

const data = { train: syntheticDigits(60, 1), test: syntheticDigits(30, 2) };
const config: TrainConfigInput = { optimizer: "rmsprop", epochs: 3, batchSize: 20, model: TINY_MODEL, seed: 3 };
const quiet = () => undefined;

test("trainRun aborted mid-epoch stops after the current batch, says what is saved, and the same call resumes", async () => {
  const runsDir = tempDir();
  const controller = new AbortController();
  const lines: string[] = [];
  let batchesAfterAbort = 0;
  await assert.rejects(
    trainRun(config, {
      data,
      runsDir,
      log: (l) => lines.push(l),
      loadModel: false,
      signal: controller.signal,
      onProgress: (p) => {
        if (controller.signal.aborted && p.phase === "train") batchesAfterAbort++;
        if (p.epoch === 2 && p.batch === 1) controller.abort();
      },
    }),
    (err: Error) =>
      err instanceof TrainingInterrupted &&
      /interrupted in epoch 2\/3; 1 epoch\(s\) are saved .*: the same call resumes after epoch 1$/.test(err.message),
  );
  assert.equal(batchesAfterAbort, 0, "no batch ran after the interrupt");
  assert.ok(lines.some((l) => l.startsWith("Interrupted: training of ") && l.endsWith("run the same cell or command again to resume.")));
  const run = await trainRun(config, { data, runsDir, log: quiet, loadModel: false });
  assert.equal(run.status, "resumed");
  assert.equal(run.resumedFromEpoch, 1);
});

test("trainRun refuses a second training of the same run in this process, and waits for one that is stopping", async () => {
  const runsDir = tempDir();
  const controller = new AbortController();
  let firstEpochStarted!: () => void;
  const started = new Promise<void>((resolve) => (firstEpochStarted = resolve));
  const first = trainRun(config, {
    data,
    runsDir,
    log: quiet,
    loadModel: false,
    signal: controller.signal,
    onProgress: () => firstEpochStarted(),
  });
  const firstOutcome = first.catch((err: Error) => err);
  await started;
  await assert.rejects(
    trainRun(config, { data, runsDir, log: quiet, loadModel: false }),
    /this process is training it already \(a cell still running\?\)/,
  );
  controller.abort();
  const lines: string[] = [];
  const second = await trainRun(config, { data, runsDir, log: (l) => lines.push(l), loadModel: false });
  assert.ok((await firstOutcome) instanceof TrainingInterrupted);
  assert.ok(lines[0].startsWith("Waiting for the interrupted training of"), lines.join("\n"));
  assert.equal(second.metrics.epochsCompleted, 3);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`trainRun in a process that gets ${signal} mid-epoch stops within a few batches, and the next call resumes`, async () => {
    const runsDir = tempDir();
    // 20 batches an epoch, so a stop that waits for the epoch's end shows as many batches after the signal.
    const longer: TrainConfigInput = { ...config, batchSize: 10 };
    const script = `
      const lab = require("mnist-lab");
      const { syntheticDigits, TINY_MODEL } = require(${JSON.stringify(path.join(__dirname, "helpers", "train_fixtures"))});
      (async () => {
        await lab.initBackend("cpu");
        const data = { train: syntheticDigits(200, 1), test: syntheticDigits(30, 2) };
        try {
          await lab.trainRun(${JSON.stringify(longer)}, { data, runsDir: ${JSON.stringify(runsDir)}, loadModel: false,
            onProgress: (p) => { if (p.phase === "train") process.stdout.write("BATCH " + p.epoch + " " + p.batch + "\\n"); } });
          process.stdout.write("FINISHED\\n");
        } catch (err) { process.stdout.write("CAUGHT " + err.name + " " + err.signal + ": " + err.message + "\\n"); }
      })();`;
    const child = spawn(process.execPath, ["--require", "ts-node/register", "-e", script], {
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    let out = "";
    let signalledAt = -1;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (signalledAt < 0 && out.includes("BATCH 2 5\n")) {
        signalledAt = out.length;
        child.kill(signal);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0, out);
    assert.match(out, /Interrupted: training of \S+ stops after the current batch/);
    assert.match(
      out,
      new RegExp(`CAUGHT TrainingInterrupted ${signal}: Training of \\S+ was interrupted in epoch 2/3; 1 epoch\\(s\\) are saved`),
    );
    const batchesAfter = (out.slice(signalledAt).match(/^BATCH /gm) ?? []).length;
    assert.ok(batchesAfter <= 3, `${batchesAfter} batches ran after ${signal} (at most 3 wanted):\n${out.slice(signalledAt)}`);
    const run = await trainRun(longer, {
      data: { train: syntheticDigits(200, 1), test: syntheticDigits(30, 2) },
      runsDir,
      log: quiet,
      loadModel: false,
    });
    assert.equal(run.status, "resumed");
    assert.equal(run.resumedFromEpoch, 1);
  });
}
