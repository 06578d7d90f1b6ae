import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadModelDir, trainRun, type OptimizerName, type TrainConfigInput } from "mnist-lab";
import { TINY_MODEL, syntheticDigits, tempDir, trainStoppedAfterEpoch, useCpuBackend } from "./helpers/train_fixtures";

// A run on disk is a promise: stopped at any moment and started again, it ends exactly as an uninterrupted run.

test.before(useCpuBackend);

const data = { train: syntheticDigits(60, 1), test: syntheticDigits(30, 2) };
const quiet = () => undefined;
const config = (optimizer: OptimizerName): TrainConfigInput => ({ optimizer, epochs: 4, batchSize: 20, model: TINY_MODEL, seed: 7 });

/** What must be bit-identical between two runs: every logged number but the wall time, every step's, and every weight. */
async function outcome(runDir: string): Promise<{ history: string; steps: string; weights: number[][] }> {
  const history = fs
    .readFileSync(path.join(runDir, "history.csv"), "utf8")
    .split("\n")
    .map((line) =>
      line
        .split(",")
        .filter((_, i) => i !== 2)
        .join(","),
    )
    .join("\n");
  const model = await loadModelDir(path.join(runDir, "model"));
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { history, steps: fs.readFileSync(path.join(runDir, "steps.csv"), "utf8"), weights };
}

class Stop extends Error {}

async function uninterrupted(optimizer: OptimizerName): Promise<{ history: string; steps: string; weights: number[][] }> {
  const run = await trainRun(config(optimizer), { data, runsDir: tempDir(), log: quiet, loadModel: false });
  return outcome(run.runDir);
}

for (const optimizer of ["rmsprop", "adam"] as const) {
  test(`trainRun ${optimizer} stopped after an epoch, mid-epoch, or twice, resumes bit-identical to the uninterrupted run`, async () => {
    const expected = await uninterrupted(optimizer);
    // Each case: where to stop (epoch, batch) — batch 0 stops right after that epoch's checkpoint.
    const cases: Array<Array<[number, number]>> = [
      [[1, 0]],
      [[2, 2]],
      [
        [1, 0],
        [3, 1],
      ],
    ];
    for (const stops of cases) {
      const runsDir = tempDir();
      for (const [epoch, batch] of stops) {
        await assert.rejects(
          trainRun(config(optimizer), {
            data,
            runsDir,
            log: quiet,
            loadModel: false,
            onEpoch: (e) => {
              if (batch === 0 && e.epoch === epoch) throw new Stop(`stop after epoch ${epoch}`);
            },
            onProgress: (p) => {
              if (batch > 0 && p.phase === "train" && p.epoch === epoch && p.batch === batch) throw new Stop(`stop in epoch ${epoch}`);
            },
          }),
          Stop,
        );
      }
      const lines: string[] = [];
      const run = await trainRun(config(optimizer), { data, runsDir, log: (l) => lines.push(l), loadModel: false });
      assert.equal(run.status, "resumed");
      assert.deepEqual(await outcome(run.runDir), expected, `stops at ${JSON.stringify(stops)}`);
    }
  });
}

test("trainRun detects a same-size corruption of each checkpoint file, names it and resumes from the older checkpoint", async () => {
  const threeEpochs = { ...config("adam"), epochs: 3 };
  const expected = await outcome((await trainRun(threeEpochs, { data, runsDir: tempDir(), log: quiet, loadModel: false })).runDir);
  // One run stopped after its last epoch's checkpoint, copied once per file to damage.
  const stoppedDir = tempDir();
  await trainStoppedAfterEpoch(3, threeEpochs, { data, runsDir: stoppedDir, log: quiet, loadModel: false });
  const runId = fs.readdirSync(stoppedDir)[0];
  for (const file of ["weights.bin", "model.json", "optimizer.bin", "optimizer.json", "state.json", "checksums.json"]) {
    const runsDir = tempDir();
    fs.cpSync(path.join(stoppedDir, runId), path.join(runsDir, runId), { recursive: true });
    const newest = path.join(runsDir, runId, "checkpoints", "epoch-0003");
    const target = path.join(newest, file);
    const bytes = fs.readFileSync(target);
    // Flip bytes in the middle, keeping the size: only a checksum can tell.
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 4; i++) bytes[i] ^= 0x5a;
    fs.writeFileSync(target, bytes);
    const lines: string[] = [];
    const run = await trainRun(threeEpochs, { data, runsDir, log: (l) => lines.push(l), loadModel: false });
    assert.ok(
      lines.some((l) => l.startsWith(`Checkpoint ${newest} is damaged: Expected ${newest}/`)),
      `${file}: ${lines.join("\n")}`,
    );
    if (file !== "checksums.json")
      assert.ok(
        lines.some((l) => l.includes(`Expected ${target} `)),
        `${file} named: ${lines.join("\n")}`,
      );
    assert.ok(
      lines.some((l) => l.startsWith("Resuming run") && l.includes("after epoch 2/3")),
      lines.join("\n"),
    );
    assert.ok(fs.existsSync(`${newest}.damaged`), "the damaged checkpoint is kept aside");
    assert.deepEqual(await outcome(run.runDir), expected, file);
  }
});

test("loadModelDir refuses a model whose weights changed after it was saved, naming the file", async () => {
  const run = await trainRun({ ...config("rmsprop"), epochs: 1 }, { data, runsDir: tempDir(), log: quiet, loadModel: false });
  const weights = path.join(run.runDir, "model", "weights.bin");
  const bytes = fs.readFileSync(weights);
  bytes[100] ^= 1;
  fs.writeFileSync(weights, bytes);
  await assert.rejects(loadModelDir(path.join(run.runDir, "model")), (err: Error) =>
    err.message.startsWith(`Expected ${weights} to have SHA-256`),
  );
});
