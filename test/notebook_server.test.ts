// `mnist-lab notebook` serves Jupyter on localhost with token authentication and the project's kernel;
// a real browser opens 00_data.ipynb there, runs every cell and sees the class-distribution chart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { projectRoot } from "mnist-lab";
import { launchChromium } from "./helpers/browser";

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

test("mnist-lab notebook: token required, and 00_data runs all cells in a browser and draws its chart", { timeout: 240_000 }, async () => {
  const port = await freePort();
  const token = `test-${process.pid}-${Date.now()}`;
  const notebookFile = path.join(projectRoot(), "notebooks", "00_data.ipynb");
  const before = fs.readFileSync(notebookFile, "utf8");
  const server = spawn(process.execPath, [path.join(projectRoot(), "bin", "mnist-lab"), "notebook", "--port", String(port)], {
    env: { ...process.env, JUPYTER_TOKEN: token },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true, // its own process group, so the kernels go down with it
  });
  let serverLog = "";
  server.stderr!.on("data", (d) => (serverLog += d));
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchChromium();
  try {
    await waitForServer(`${base}/api/status?token=${token}`, 30_000);
    const anonymous = await fetch(`${base}/api/contents/00_data.ipynb`);
    assert.equal(anonymous.status, 403, "the API refuses requests without the token");

    const page = await browser.newPage();
    await page.goto(`${base}/notebooks/00_data.ipynb?token=${token}`);
    // Never save: the committed notebook stays without outputs.
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), undefined, { timeout: 60_000 });
    const kernelName = await page.evaluate(() => {
      const nb = (window as any).Jupyter.notebook;
      nb.set_autosave_interval(0);
      nb.execute_all_cells();
      return nb.kernel.name as string;
    });
    assert.equal(kernelName, "mnist-lab");
    await page.waitForSelector(".output_area .mnist-lab-plot .main-svg", { timeout: 150_000 });
    // The last cells come after the chart: wait for the shapes line and for the kernel to go idle.
    await page.waitForFunction(() => (document.querySelector("#notebook-container")?.textContent ?? "").includes("(60000, 28, 28, 1) (10000, 28, 28, 1) (60000, 10) (10000,)"), undefined, { timeout: 120_000 });
    await page.waitForFunction(() => !(window as any).Jupyter.notebook.kernel_busy, undefined, { timeout: 60_000 });
    const errors = await page.evaluate(() => document.querySelectorAll(".output_error, .output_stderr").length);
    assert.equal(errors, 0, "no cell printed an error");
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- jupyter log ---\n${serverLog.slice(-3000)}`);
  } finally {
    await browser.close();
    try {
      process.kill(-server.pid!, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  assert.equal(fs.readFileSync(notebookFile, "utf8"), before, "the notebook on disk is unchanged");
});
