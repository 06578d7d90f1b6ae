// `mnist-lab notebook` serves Jupyter on localhost with token authentication and the project's kernel;
// a real browser opens 00_data.ipynb there (not marked changed), runs every cell twice and sees every
// chart drawn (plotly.js served by the project's Jupyter), a stored figure draws after a reload; Download as
// HTML carries one plotly.js; killing the command stops Jupyter and its kernels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { projectRoot } from "mnist-lab";
import { launchChromium } from "./helpers/browser";
import { alive, descendants, waitFor } from "./helpers/notebook_fixtures";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitForServer(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`Expected Jupyter at ${url} within ${timeoutMs} ms but it did not answer`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test(
  "mnist-lab notebook: token required; 00_data opens unchanged, runs all twice and draws its chart; stops with the command",
  { timeout: 420_000 },
  async () => {
    const port = await freePort();
    const token = `test-${process.pid}-${Date.now()}`;
    const notebookFile = path.join(projectRoot(), "notebooks", "00_data.ipynb");
    const before = fs.readFileSync(notebookFile, "utf8");
    const server = spawn(process.execPath, [path.join(projectRoot(), "bin", "mnist-lab"), "notebook", "--port", String(port)], {
      env: { ...process.env, JUPYTER_TOKEN: token },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let serverLog = "";
    server.stderr!.on("data", (d) => (serverLog += d));
    const base = `http://127.0.0.1:${port}`;
    const browser = await launchChromium();
    let helpers: { pid: number; command: string }[] = [];
    let gone: boolean;
    try {
      await waitForServer(`${base}/api/status?token=${token}`, 30_000);
      const anonymous = await fetch(`${base}/api/contents/00_data.ipynb`);
      assert.equal(anonymous.status, 403, "the API refuses requests without the token");

      const page = await browser.newPage();
      await page.goto(`${base}/notebooks/00_data.ipynb?token=${token}`);
      // Never save: the committed notebook stays without outputs.
      await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), undefined, { timeout: 60_000 });
      // The kernel's info arrives right after it connects; a stored language_info that differs marks the notebook changed.
      await page.waitForFunction(() => (window as any).Jupyter.notebook.kernel.info_reply?.language_info, undefined, { timeout: 30_000 });
      await page.waitForTimeout(500);
      assert.equal(await page.evaluate(() => (window as any).Jupyter.notebook.dirty), false, "the notebook opens without unsaved changes");
      const kernelName = await page.evaluate(() => {
        const nb = (window as any).Jupyter.notebook;
        nb.set_autosave_interval(0);
        nb.execute_all_cells();
        return nb.kernel.name as string;
      });
      assert.equal(kernelName, "mnist-lab");
      await page.waitForSelector(".output_area .mnist-lab-plot .main-svg", { timeout: 150_000 });
      // The last cells come after the chart: wait for the shapes line and for the kernel to go idle.
      const shapes = "(60000, 28, 28, 1) (10000, 28, 28, 1) (60000, 10) (10000,)";
      const idleWith = async (text: string) => {
        await page.waitForFunction((s) => (document.querySelector("#notebook-container")?.textContent ?? "").includes(s), text, {
          timeout: 120_000,
        });
        await page.waitForFunction(() => !(window as any).Jupyter.notebook.kernel_busy, undefined, { timeout: 60_000 });
      };
      await idleWith(shapes);
      // Run all a second time: every figure still draws, though the outputs that loaded plotly.js first are gone.
      await page.evaluate(() => {
        (window as any).Jupyter.notebook.clear_all_output();
        (window as any).Jupyter.notebook.execute_all_cells();
      });
      await page.waitForFunction(() => document.querySelectorAll(".output_area .mnist-lab-plot").length > 0, undefined, {
        timeout: 150_000,
      });
      await idleWith(shapes);
      await page.waitForTimeout(1000);
      const plots = await page.evaluate(() =>
        Array.from(document.querySelectorAll(".output_area .mnist-lab-plot")).map((e) =>
          e.querySelector(".main-svg") ? "drawn" : e.textContent,
        ),
      );
      assert.ok(plots.length >= 1 && plots.every((p) => p === "drawn"), `after run-all twice: ${JSON.stringify(plots)}`);
      const errors = await page.evaluate(() => document.querySelectorAll(".output_error, .output_stderr").length);
      assert.equal(errors, 0, "no cell printed an error");

      // After a reload the page has no plotly.js: a stored figure output, rendered as Jupyter renders a saved
      // notebook's outputs, loads it from the project's Jupyter by itself.
      const stored = await page.evaluate(() => {
        const cells = (window as any).Jupyter.notebook.toJSON().cells as { outputs?: { data?: Record<string, unknown> }[] }[];
        const outputs = cells.flatMap((c) => c.outputs ?? []);
        return outputs.find((o) => String(o.data?.["text/html"] ?? "").includes("mnist-lab-plot"));
      });
      assert.ok(stored, "a figure output to store");
      await page.reload();
      await page.waitForFunction(() => (window as any).Jupyter?.notebook?.set_autosave_interval, undefined, { timeout: 60_000 });
      await page.evaluate((output) => {
        const nb = (window as any).Jupyter.notebook;
        nb.set_autosave_interval(0);
        const outputArea = nb.get_cells().find((c: { cell_type: string }) => c.cell_type === "code").output_area;
        outputArea.trusted = true; // as in a notebook its user ran and saved (Jupyter signs it)
        outputArea.append_output(output);
      }, stored);
      await page.waitForSelector(".output_area .mnist-lab-plot .main-svg", { timeout: 60_000 });

      // Download as HTML uses the report's template and carries plotly.js exactly once, also for an output that
      // carried its own copy (notebooks saved before figures stopped carrying it).
      const bundle =
        "<script>(function(){if(window.Plotly)return;" +
        "var d=window.define,m=window.module;window.define=undefined;window.module=undefined;try{\n" +
        "window.Plotly = Plotly;\n}finally{window.define=d;window.module=m;}})();</script>";
      const figureOutputs = [`${bundle}<div class="mnist-lab-plot"></div>`, String(stored!.data!["text/html"])].map((html) => ({
        output_type: "display_data",
        metadata: {},
        data: { "text/html": html },
      }));
      const withTwoFigures = {
        cells: [0, 1].map((i) => ({
          cell_type: "code",
          execution_count: i + 1,
          id: `c${i}`,
          metadata: {},
          outputs: [figureOutputs[i]],
          source: "lab.showFigure(f);",
        })),
        metadata: { kernelspec: { name: "mnist-lab", display_name: "TypeScript (mnist-lab)", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      };
      const exported = await fetch(`${base}/nbconvert/html`, {
        method: "POST",
        headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "two.ipynb", content: withTwoFigures }),
      });
      assert.equal(exported.status, 200);
      const html = await exported.text();
      assert.equal(html.split("window.Plotly = Plotly").length - 1, 1, "one copy of plotly.js");
      assert.ok(html.length > 3_000_000, "the real bundle, not only the old output's stand-in");
      assert.equal(html.split('class="mnist-lab-plot"').length - 1, 2, "both figures");
      assert.ok(!/<script[^>]+src=/i.test(html), "the report's offline template: no external scripts");
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- jupyter log ---\n${serverLog.slice(-3000)}`, { cause: err });
    } finally {
      await browser.close();
      // Kill the command alone, as `kill -9` would: Jupyter and its kernel must stop with it.
      helpers = descendants(server.pid!);
      server.kill("SIGKILL");
      gone = await waitFor(() => helpers.every((p) => !alive(p.pid)), 20_000);
      for (const p of helpers) if (alive(p.pid)) process.kill(p.pid, "SIGKILL");
    }
    assert.ok(
      helpers.some((p) => p.command.includes("tslab kernel")),
      "a kernel was running",
    );
    assert.ok(gone, `still running after the command was killed: ${helpers.map((p) => p.command).join("; ")}`);
    await assert.rejects(fetch(`${base}/api/status`), "nothing listens on the port any more");
    assert.equal(fs.readFileSync(notebookFile, "utf8"), before, "the notebook on disk is unchanged");
  },
);
