// A report run's helpers (nbtool, the tslab kernel) stop with it however it is killed, and the staging
// folder a killed run leaves is cleared by the next run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildHtmlReport, projectRoot } from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";
import { alive, descendants, waitFor, writeNotebook } from "./helpers/notebook_fixtures";

test(
  "buildHtmlReport killed with SIGKILL leaves no process behind, and the next run clears its staging",
  { timeout: 180_000 },
  async () => {
    const notebooks = tempDir();
    const out = tempDir();
    writeNotebook(path.join(notebooks, "00_slow.ipynb"), ['console.log("working");\nawait new Promise((r) => setTimeout(r, 120_000));']);
    const script =
      `require(${JSON.stringify(path.join(projectRoot(), "dist", "lib"))})` +
      `.buildHtmlReport({ profile: "smoke", outDir: ${JSON.stringify(out)}, notebooksDir: ${JSON.stringify(notebooks)} })`;
    const report = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
    try {
      // Wait until the kernel runs the slow cell's notebook, then kill the report process alone.
      const started = await waitFor(() => descendants(report.pid!).some((p) => p.command.includes("tslab kernel")), 60_000);
      assert.ok(started, "the kernel started");
      await new Promise((r) => setTimeout(r, 2000));
      const helpers = descendants(report.pid!);
      assert.ok(
        helpers.some((p) => p.command.includes("nbtool.py execute")),
        "nbtool runs",
      );
      report.kill("SIGKILL");
      const gone = await waitFor(() => helpers.every((p) => !alive(p.pid)), 15_000);
      assert.ok(
        gone,
        `still running: ${helpers
          .filter((p) => alive(p.pid))
          .map((p) => p.command)
          .join("; ")}`,
      );
    } finally {
      report.kill("SIGKILL");
    }
    // Until this process reaps it, the killed run is a zombie whose pid still answers: wait for its exit.
    if (report.exitCode === null && report.signalCode === null) await new Promise((r) => report.once("exit", r));
    assert.equal(fs.readdirSync(out).filter((f) => f.startsWith(".staging-")).length, 1, "a killed run cannot clean up its staging");
    writeNotebook(path.join(notebooks, "00_slow.ipynb"), ['console.log("quick now");']);
    await buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks });
    assert.deepEqual(
      fs.readdirSync(out).filter((f) => f.startsWith(".staging-")),
      [],
      "the next run removed it",
    );
  },
);
