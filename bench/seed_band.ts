// Whether a run lies inside the seed band of committed runs of the same recipe: per epoch and figure, the committed
// seeds' mean and the run's z against their seed-to-seed sd. A few seeds give a rough sd for one epoch (three seeds can
// agree on one epoch's val_loss to 0.0004 and spread 0.017 on the next), so each figure's sd is pooled over the epochs.
// For an engine change (lib/training/fused_step.ts): `mnist-lab forensics engine-check` trains fresh seeds with it;
// set each against the seeds an earlier engine left in forensics/.
// Run: npm run -s build && node dist/bench/seed_band.js <dir of committed summaries> <run or summary dir> — prints a table.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseHistoryCsv } from "../lib";

const FIGURES = ["loss", "accuracy", "val_loss", "val_accuracy"] as const;
/** |z| above this is outside the band (three committed seeds give a rough sd; 3 leaves room for that). */
const LIMIT = 3;

function history(dir: string): Array<Record<string, number>> {
  return parseHistoryCsv(fs.readFileSync(path.join(dir, "history.csv"), "utf8")) as unknown as Array<Record<string, number>>;
}

function main(): void {
  const [committedDir, runDir] = process.argv.slice(2);
  if (!committedDir || !runDir) throw new Error("Expected <dir of committed summaries> <run dir> but found fewer arguments");
  const seeds = fs
    .readdirSync(committedDir)
    .map((d) => path.join(committedDir, d))
    .filter((d) => fs.existsSync(path.join(d, "history.csv")))
    .map(history);
  const ours = history(runDir);
  process.stdout.write(`${path.basename(runDir)} against ${seeds.length} committed seeds in ${committedDir}\n`);
  process.stdout.write(`epoch  figure        seeds mean ± pooled sd  ours      z\n`);
  const epochs = ours.map((_, e) => seeds.filter((h) => h[e]).map((h) => h[e]));
  const stats = (values: number[]) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return { mean, variance: values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) };
  };
  let worst = 0;
  for (const figure of FIGURES) {
    const variances = epochs.filter((rows) => rows.length >= 2).map((rows) => stats(rows.map((r) => r[figure])).variance);
    const sd = Math.sqrt(variances.reduce((a, b) => a + b, 0) / variances.length);
    ours.forEach((row, e) => {
      if (epochs[e].length < 2) return;
      const { mean } = stats(epochs[e].map((r) => r[figure]));
      const z = (row[figure] - mean) / sd;
      worst = Math.max(worst, Math.abs(z));
      const cells = [`${e + 1}`.padEnd(6), figure.padEnd(13), `${mean.toFixed(4)} ± ${sd.toFixed(4)}`.padEnd(21), row[figure].toFixed(4)];
      process.stdout.write(`${cells.join(" ")} ${z.toFixed(2).padStart(6)}\n`);
    });
  }
  const verdict = worst <= LIMIT ? "inside" : "outside";
  process.stdout.write(`largest |z| ${worst.toFixed(2)}: ${verdict} the seed band (|z| ≤ ${LIMIT})\n`);
  if (worst > LIMIT) process.exitCode = 1;
}

main();
