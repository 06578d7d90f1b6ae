// Kernel › Interrupt in a real tslab kernel (jupyter_client sends SIGINT as Jupyter does): the interrupted cell
// prints one line and nothing after it, its later statements start nothing, and the next cell prints again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CELL_INTERRUPTED_LINE, KERNEL_NAME, jupyterEnv } from "mnist-lab";
import { labNotebookDir } from "./helpers/notebook_fixtures";

// Runs each cell; a cell's entry in `interrupt_after` is text whose appearance in its output triggers the interrupt.
// Prints one JSON line: per cell, its reply status and the outputs it got up to 8 s after its reply.
const DRIVER = String.raw`
import json, sys, time, queue
from jupyter_client.manager import start_new_kernel
spec = json.load(sys.stdin)
km, kc = start_new_kernel(kernel_name=spec["kernel"], cwd=spec["cwd"])
results = []
try:
    for cell in spec["cells"]:
        msg_id = kc.execute(cell["code"])
        outputs, status, replied, interrupted = [], None, None, False
        deadline = time.time() + 240
        while time.time() < deadline and (replied is None or time.time() < replied + cell.get("linger", 0)):
            try:
                msg = kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                msg = None
            if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    outputs.append({"kind": content["name"], "text": content["text"]})
                elif kind in ("display_data", "update_display_data", "execute_result", "error"):
                    outputs.append({"kind": kind, "text": json.dumps(content.get("data", content.get("evalue", "")))})
            trigger = cell.get("interrupt_after")
            if trigger and not interrupted and trigger in "".join(o["text"] for o in outputs):
                km.interrupt_kernel()
                interrupted = True
            if replied is None:
                try:
                    reply = kc.get_shell_msg(timeout=0.05)
                    if reply["parent_header"].get("msg_id") == msg_id:
                        status, replied = reply["content"]["status"], time.time()
                except queue.Empty:
                    pass
        results.append({"status": status, "outputs": outputs})
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(results))
`;

interface CellResult {
  status: string | null;
  outputs: { kind: string; text: string }[];
}

function runCells(dir: string, cells: { code: string; interrupt_after?: string; linger?: number }[]): CellResult[] {
  const result = spawnSync("/usr/bin/python3", ["-c", DRIVER], {
    input: JSON.stringify({ kernel: KERNEL_NAME, cwd: dir, cells }),
    env: jupyterEnv(),
    encoding: "utf8",
    timeout: 600_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as CellResult[];
}

const streams = (cell: CellResult) =>
  cell.outputs
    .filter((o) => o.kind === "stdout" || o.kind === "stderr")
    .map((o) => o.text)
    .join("");

test("an interrupted cell prints one line, nothing after it, and its later statements start nothing", { timeout: 600_000 }, () => {
  const dir = labNotebookDir();
  const runsDir = path.join(dir, "runs");
  const data =
    "{ images: new Uint8Array(40 * 784).map((_, i) => (i * 7) % 256), labels: new Uint8Array(40).map((_, i) => i % 10), count: 40 }";
  const config = (seed: number) =>
    `{ optimizer: "rmsprop", epochs: 40, batchSize: 10, model: { filters: 2, denseUnits: 8 }, seed: ${seed} }`;
  const options = `{ data: { train: split, test: split }, runsDir: ${JSON.stringify(runsDir)}, backend: "cpu", loadModel: false }`;
  const [, training, waiting, next] = runCells(dir, [
    { code: `import * as lab from "mnist-lab";\nconst split = ${data};` },
    {
      code:
        `await lab.trainRun(${config(1)}, { ...${options}, ` +
        'onProgress: (p) => { if (p.epoch === 2 && p.batch === 1) console.log("epoch 2 began"); } });\n' +
        'console.log("after the training");\nlab.showHtml("<b>after the training</b>");',
      interrupt_after: "epoch 2 began",
      linger: 8,
    },
    {
      code:
        'await lab.withProgress("waiting", async (p) => { for (let i = 0; i < 20; i++) { p.step("tick", i, 20); ' +
        'if (i === 2) console.log("ticking"); await new Promise((r) => setTimeout(r, 100)); } });\n' +
        `await lab.trainRun(${config(2)}, ${options});\nconsole.log("after the second training");`,
      interrupt_after: "ticking",
      linger: 8,
    },
    { code: 'console.log("the next cell prints");', linger: 2 },
  ]);

  assert.equal(training.status, "error", "Run All stops at an interrupted cell");
  const trainingText = streams(training);
  const afterInterrupt = trainingText.slice(trainingText.indexOf("epoch 2 began\n") + "epoch 2 began\n".length);
  const trainingLine = /^Interrupted: training of \S+ stops after the current batch; run the same cell or command again to resume\.\n$/;
  assert.match(afterInterrupt, trainingLine);
  assert.deepEqual(
    training.outputs.filter((o) => o.kind === "display_data" || o.kind === "error"),
    [],
    "no figure, table or error after the interrupt",
  );

  assert.equal(waiting.status, "error");
  assert.equal(streams(waiting), `ticking\n${CELL_INTERRUPTED_LINE}\n`);
  const runs = fs.readdirSync(runsDir);
  assert.equal(runs.length, 1, `only the first cell's run exists, the second cell's training never started: ${runs.join(", ")}`);

  assert.equal(next.status, "ok");
  assert.equal(streams(next), "the next cell prints\n");
});
