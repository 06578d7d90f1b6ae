// How a report run fails: a dying kernel, an error with an empty message, an error thrown later from a
// timer, and what `only` replaces. Every case keeps the last good report.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { NotebookCellError, buildHtmlReport, executeNotebook, listNotebooks } from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";
import { labNotebookDir, writeNotebook } from "./helpers/notebook_fixtures";

let notebooks: string;
let out: string;
let goodReport: string;

before(async () => {
  notebooks = tempDir();
  out = tempDir();
  writeNotebook(path.join(notebooks, "00_first.ipynb"), ['console.log("first notebook");']);
  writeNotebook(path.join(notebooks, "01_second.ipynb"), ['console.log("second notebook");']);
  await buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks });
  goodReport = fs.readFileSync(path.join(out, "mnist-report.html"), "utf8");
});

test("executeNotebook names the cell a dying kernel was running and how the kernel ended", async () => {
  const dir = tempDir();
  const notebook = path.join(dir, "dies.ipynb");
  writeNotebook(notebook, ["const a = 1;", 'console.log("about to exit");\nprocess.exit(3);', "const c = 3;"]);
  await assert.rejects(
    executeNotebook(notebook, { outHtml: path.join(dir, "o.html"), outIpynb: path.join(dir, "o.ipynb") }),
    (err: unknown) => {
      assert.ok(err instanceof NotebookCellError);
      assert.equal(err.message, "dies.ipynb: code cell 2 failed: the kernel died (exit code 3) while the cell ran");
      assert.equal(err.details.kind, "kernel");
      assert.match(err.details.text ?? "", /about to exit/, "what the cell printed before it died is kept");
      return true;
    },
  );
});

test("executeNotebook says so when the error has an empty message, instead of printing where it was thrown", async () => {
  const dir = tempDir();
  const notebook = path.join(dir, "empty.ipynb");
  writeNotebook(notebook, ["const a = 1;", 'throw new Error("");']);
  await assert.rejects(
    executeNotebook(notebook, { outHtml: path.join(dir, "o.html"), outIpynb: path.join(dir, "o.ipynb") }),
    (err: unknown) => (err as Error).message === "empty.ipynb: code cell 2 failed: Error: (empty message)",
  );
});

test("buildHtmlReport fails on an error thrown later from a timer and keeps the last good report", async () => {
  writeNotebook(path.join(notebooks, "02_stray.ipynb"), [
    'setTimeout(() => { throw new RangeError("thrown from a timer"); }, 50);',
    'console.log("the cell itself succeeded");',
  ]);
  try {
    await assert.rejects(
      buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks }),
      new RegExp(
        "02_stray\\.ipynb: an error was thrown from a timer or an unawaited promise " +
          "(while code cell \\d|outside any cell's own run)[^:]*: " +
          "RangeError: thrown from a timer \\(the cell's whole output and the kernel's stderr: .*mnist-report\\.log\\)$",
      ),
    );
  } finally {
    fs.rmSync(path.join(notebooks, "02_stray.ipynb"));
  }
  assert.equal(fs.readFileSync(path.join(out, "mnist-report.html"), "utf8"), goodReport, "the last good report stays");
  assert.match(fs.readFileSync(path.join(out, "mnist-report.log"), "utf8"), /UncaughtException: RangeError: thrown from a timer\n\s+at /);
});

test("buildHtmlReport with only replaces that notebook's own HTML and keeps the combined report", async () => {
  writeNotebook(path.join(notebooks, "01_second.ipynb"), ['console.log("second notebook, run again");']);
  const result = await buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks, only: ["01"] });
  assert.equal(result.combined, false);
  assert.deepEqual(
    result.notebookResults.map((r) => path.basename(r.html)),
    ["01_second.html"],
  );
  assert.match(fs.readFileSync(path.join(out, "notebooks", "01_second.html"), "utf8"), /second notebook, run again/);
  assert.equal(fs.readFileSync(path.join(out, "mnist-report.html"), "utf8"), goodReport, "the combined report stays");
  await assert.rejects(
    buildHtmlReport({ profile: "smoke", outDir: out, notebooksDir: notebooks, only: ["01", "zz"] }),
    /Expected notebooks among 00_first, 01_second \(or their numbers\) but found "zz"$/,
  );
});

test("notebooks open without unsaved changes: their language_info is the one the kernel reports", () => {
  // Jupyter marks a notebook changed when the kernel's language_info differs from the stored one.
  const executed = JSON.parse(fs.readFileSync(path.join(out, "notebooks", "00_first.ipynb"), "utf8"));
  const kernelInfo = executed.metadata.language_info;
  assert.equal(kernelInfo.name, "typescript");
  for (const nb of listNotebooks()) {
    assert.deepEqual(JSON.parse(fs.readFileSync(nb, "utf8")).metadata.language_info, kernelInfo, path.basename(nb));
  }
});

test("a MnistLabError in a cell prints as one line; with debug, with its stack", { timeout: 120_000 }, async () => {
  const dir = labNotebookDir();
  const notebook = path.join(dir, "missing_run.ipynb");
  const runs = tempDir();
  writeNotebook(notebook, [
    'import * as lab from "mnist-lab";',
    `lab.loadFinishedRun(lab.profileTrainConfig("smoke", "adam"), ${JSON.stringify(runs)});`,
  ]);
  for (const debug of [false, true]) {
    await assert.rejects(
      executeNotebook(notebook, { outHtml: path.join(dir, "o.html"), outIpynb: path.join(dir, "o.ipynb"), debug }),
      (err: unknown) => {
        assert.ok(err instanceof NotebookCellError);
        assert.equal(err.ename, "MnistLabError");
        assert.match(err.evalue, /^Expected a finished adam run at .* but found none; .*02_train/);
        const lines = (err.details.text ?? "").trim().split("\n");
        if (debug)
          assert.ok(
            lines.some((l) => /^\s+at /.test(l)),
            "the stack, with debug",
          );
        else assert.deepEqual(lines, [`MnistLabError: ${err.evalue}`], "one line, no stack");
        return true;
      },
    );
  }
});
