#!/usr/bin/python3
"""Notebook tools for lib/report.ts and the notebook command (their only callers), on Debian's nbclient,
nbconvert and Jupyter.

execute: run one notebook with injected parameters and export it to HTML. Papermill's convention
  without papermill (not in Debian): the cell tagged `parameters` keeps its defaults, and a cell tagged
  `injected-parameters` right after it assigns the run's values. On a failure it prints one JSON line
  {"error": {...}} naming the cell, the error and its whole text, and exits 1; nothing is written then.
  An exception thrown later from a timer or an unawaited promise fails the run too.
combine: join executed notebooks into one offline HTML report, plotly.js inlined once.
serve: Jupyter Notebook on localhost, exporting like the report (File > Download as > HTML).

Processes never outlive their parent: this tool, its kernel and Jupyter get SIGTERM when the process that
started them exits, even when it was killed with SIGKILL (Linux's PR_SET_PDEATHSIG).

usage: nbtool.py execute IN.ipynb --cwd DIR --kernel NAME --params CODE --out-ipynb F --out-html F [--timeout S]
       nbtool.py combine --title T --intro MARKDOWN --out-html F EXECUTED.ipynb ...
       nbtool.py serve JUPYTER ARG ...
"""
import argparse
import asyncio
import ctypes
import json
import os
import re
import signal
import sys
import tempfile

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLOTLY_DIR = os.path.join(PROJECT, "node_modules", "plotly.js-dist-min")
PLOTLY_JS = os.path.join(PLOTLY_DIR, "plotly.min.js")
# The div of every figure lib/notebook/plots.ts draws.
FIGURE_MARK = 'class="mnist-lab-plot"'
# An export's plotly.js sits between these two markers (and so did every figure's copy in older notebooks).
PLOTLY_START = "<script>(function(){if(window.Plotly)return;var d=window.define,m=window.module;"
PLOTLY_END = "}finally{window.define=d;window.module=m;}})();</script>"
# Cells this tool runs around the notebook's own; they are never saved or exported.
HIDDEN_TAG = "mnist-lab-hidden"
# Records errors thrown outside any cell's own execution (timers, unawaited promises); tslab only prints them.
STRAY_RECORDER = """(() => {
  const g = globalThis as any;
  g.__mnistLabStrayErrors = [];
  const record = (kind: string) => (e: unknown) =>
    g.__mnistLabStrayErrors.push(`${kind}: ${e instanceof Error ? (e.stack ?? String(e)) : String(e)}`);
  process.on("uncaughtException", record("UncaughtException"));
  process.on("unhandledRejection", record("UnhandledPromiseRejection"));
})();"""
# Lets timers the notebook left behind fire (for at most a few seconds), then reports what was recorded.
STRAY_MARKER = "mnist-lab stray errors: "
STRAY_PROBE = """(globalThis as any).__mnistLabProbeUntil = Date.now() + 5000;
do {
  await new Promise((r) => setTimeout(r, 20));
} while ((process as any).getActiveResourcesInfo().some((r: string) => r === "Timeout" || r === "Immediate")
  && Date.now() < (globalThis as any).__mnistLabProbeUntil);
console.log(%r + JSON.stringify((globalThis as any).__mnistLabStrayErrors ?? []));""" % STRAY_MARKER


def die_with_parent(expected_parent=None):
    """SIGTERM when the parent exits. Also right away if it already has: we were re-parented before asking."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), signal.SIGTERM)


def parent_pid():
    """The pid of the process that started this tool (lib/report.ts passes it, so a race is seen)."""
    value = os.environ.get("MNIST_LAB_PARENT_PID", "")
    return int(value) if value.isdigit() else os.getppid()


def inject_parameters(nb, assignments):
    """Insert the injected-parameters cell after the parameters cell (or first, if there is none)."""
    if not assignments:
        return
    import nbformat
    index = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    cell = nbformat.v4.new_code_cell(assignments)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index, cell)


def hidden_cell(source):
    import nbformat
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [HIDDEN_TAG]
    return cell


def is_hidden(cell):
    return HIDDEN_TAG in cell.get("metadata", {}).get("tags", [])


ERROR_LINE = re.compile(r"^((?:[A-Za-z_$][\w$]*)?(?:Error|Exception))(?:: (.*))?$")
TS_DIAGNOSTIC = re.compile(r"^\d+:\d+ - (.*)$")


def parse_error_text(text):
    """(name, message) of a JS error as tslab prints it: maybe a location, the source line and a caret, then
    `RangeError: message` (or a bare `Error` when the message is empty); a TypeScript compile error is
    `1:7 - message`; anything else thrown prints as itself."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        for prefix in ("UncaughtException: ", "UnhandledPromiseRejection: "):
            line = line[len(prefix):] if line.startswith(prefix) else line
        m = ERROR_LINE.match(line)
        if m:
            return m.group(1), m.group(2) or "(empty message)"
        m = TS_DIAGNOSTIC.match(line)
        if m:
            return "TypeScript error", line
    return "Error", lines[0] if lines else ""


def output_text(cell, names=("stdout", "stderr")):
    """The text a cell printed (streams and error outputs), in order."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") in names:
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])) or f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "".join(parts)


def code_cell_number(nb, index):
    """The cell's number as the user sees the notebook: injected and hidden cells do not count."""
    visible = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
               and "injected-parameters" not in c.get("metadata", {}).get("tags", []) and not is_hidden(c)]
    return visible.index(index) + 1 if index in visible else None


def kernel_exit(process):
    """How the kernel process ended, in words, or None while it runs."""
    if process is None:
        return None
    code = process.poll()
    if code is None:
        return None
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def describe_failure(nb, notebook, err, failed, exit_text):
    """The failing cell (the one running when `err` was raised) and its error."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    cell = nb.cells[failed] if failed is not None else None
    text = output_text(cell, ("stderr",)) if cell is not None else ""
    if isinstance(err, DeadKernelError):
        ename, evalue = "DeadKernelError", f"the kernel died ({exit_text or 'it stopped answering'}) while the cell ran"
    elif isinstance(err, CellTimeoutError):
        ename, evalue = "CellTimeoutError", str(err).strip().splitlines()[0] if str(err).strip() else "the cell timed out"
    elif text.strip():
        ename, evalue = parse_error_text(text)
    else:
        # No error text on the cell's stderr: nbclient's own message, else say so (never an empty message).
        ename = type(err).__name__
        evalue = next((line for line in str(err).splitlines() if line.strip() and not line.startswith("-")), "")
        evalue = evalue if evalue and "An error occurred while executing" not in evalue else "the kernel reported an error without any text"
    return {
        "notebook": os.path.basename(notebook),
        "cell": failed,
        "codeCell": code_cell_number(nb, failed) if failed is not None else None,
        "ename": ename,
        "evalue": evalue,
        "kind": "kernel" if isinstance(err, DeadKernelError) else "cell",
        "text": output_text(cell) if cell is not None else "",
    }


def describe_stray(nb, notebook, errors):
    """An error thrown outside any cell's own execution: name the cell it surfaced in, if any."""
    first = errors[0]
    surfaced = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not is_hidden(cell):
            printed = output_text(cell, ("stderr",))
            if "UncaughtException:" in printed or "UnhandledPromiseRejection:" in printed:
                surfaced = i
                break
    ename, evalue = parse_error_text(first)
    return {
        "notebook": os.path.basename(notebook),
        "cell": surfaced,
        "codeCell": code_cell_number(nb, surfaced) if surfaced is not None else None,
        "ename": ename,
        "evalue": evalue,
        "kind": "async",
        "text": "\n".join(errors),
    }


def write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    os.fchmod(fd, 0o644)  # mkstemp makes 0600; outputs are ordinary files
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def plotly_head_script():
    """plotly.js as one inline <script> for an export's head. require.js and CommonJS globals are hidden while the
    bundle runs, so it takes its browser-global branch (window.Plotly), whatever template the page came from."""
    with open(PLOTLY_JS, encoding="utf-8") as f:
        source = f.read()
    source = re.sub(r"</script", r"<\\/script", source, flags=re.IGNORECASE)
    return PLOTLY_START + "window.define=undefined;window.module=undefined;try{\n" + source + "\n" + PLOTLY_END


def has_figures(nb):
    return any(FIGURE_MARK in output_html(out) for cell in nb.cells for out in cell.get("outputs", []))


def output_html(out):
    html = out.get("data", {}).get("text/html")
    return "".join(html) if isinstance(html, list) else (html or "")


def strip_inline_plotly(nb):
    """Drop plotly.js bundles that figure outputs carried before exports inlined it once (older saved notebooks)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = output_html(out)
            start = text.find(PLOTLY_START)
            changed = False
            while start >= 0:
                end = text.find(PLOTLY_END, start)
                if end < 0:
                    break
                text = text[:start] + text[end + len(PLOTLY_END):]
                changed = True
                start = text.find(PLOTLY_START, start)
            if changed:
                out["data"]["text/html"] = text


def inline_plotly(nb, resources):
    """What an export needs to draw its figures offline: plotly.js once, in the head (the template prints
    resources["mnist_lab_plotly_js"]), and no copy in the outputs. A notebook without figures gets none."""
    strip_inline_plotly(nb)
    resources["mnist_lab_plotly_js"] = plotly_head_script() if has_figures(nb) else ""
    return nb, resources


def plotly_preprocessor():
    """An nbconvert preprocessor that inlines plotly.js once, for the notebook server's Download as HTML."""
    from nbconvert.preprocessors import Preprocessor

    class InlinePlotly(Preprocessor):
        def preprocess(self, nb, resources):
            return inline_plotly(nb, resources)

    return InlinePlotly


InlinePlotly = None  # set on import by the notebook server (see serve); nbclient is not needed there


def export_html(nb):
    """HTML with the project's offline template (the lab look, without require.js and MathJax tags)."""
    from nbconvert import HTMLExporter
    nb = json.loads(json.dumps(nb))  # a copy: deduping must not change the executed notebook
    import nbformat
    nb = nbformat.from_dict(nb)
    nb, resources = inline_plotly(nb, {})
    exporter = HTMLExporter(template_name="mnist-lab", extra_template_basedirs=[TEMPLATES])
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return html


def fail(error):
    print(json.dumps({"error": error}), flush=True)
    sys.exit(1)


def execute(args):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(args.notebook, as_version=4)
    inject_parameters(nb, args.params)
    nb.cells.insert(0, hidden_cell(STRAY_RECORDER))
    nb.cells.append(hidden_cell(STRAY_PROBE))
    state = {"cell": None, "kernel": None}

    def on_cell_execute(cell, cell_index):
        state["cell"] = cell_index

    def on_notebook_start(notebook):
        # nbclient's own signal handling shuts the kernel down politely and then waits for it; a stop
        # must be prompt, so ours replaces it: kill the kernel's process group and leave.
        process = state["kernel"] = getattr(client.km.provisioner, "process", None)

        def stop(signum):
            if process is not None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)  # the kernel leads its own session
                except OSError:
                    pass
            try:
                client.km.cleanup_connection_file()
            except Exception:  # noqa: BLE001 - leaving anyway
                pass
            os._exit(128 + signum)

        loop = asyncio.get_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, stop, signum)

    tool = os.getpid()

    def start_kernel_tied():  # runs in the kernel's process, between fork and exec
        die_with_parent(tool)

    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                            resources={"metadata": {"path": args.cwd}},
                            on_cell_execute=on_cell_execute, on_notebook_start=on_notebook_start)
    try:
        # The kernel starts in its own session (jupyter_client), so it also needs to die with this tool.
        client.execute(preexec_fn=start_kernel_tied)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        fail(describe_failure(nb, args.notebook, err, state["cell"], kernel_exit(state["kernel"])))
    probe = output_text(nb.cells[-1], ("stdout",))
    stray = json.loads(probe.split(STRAY_MARKER, 1)[1].splitlines()[0]) if STRAY_MARKER in probe else []
    if stray:
        fail(describe_stray(nb, args.notebook, stray))
    nb.cells = [c for c in nb.cells if not is_hidden(c)]
    write_atomic(args.out_ipynb, nbformat.writes(nb))
    write_atomic(args.out_html, export_html(nb))


def combine(args):
    import nbformat
    report = nbformat.v4.new_notebook()
    report.metadata = {"title": args.title, "kernelspec": {"name": "mnist-lab", "display_name": "TypeScript (mnist-lab)", "language": "typescript"},
                       "language_info": {"name": "typescript"}}
    report.cells.append(nbformat.v4.new_markdown_cell(args.intro))
    for path in args.notebooks:
        report.cells.extend(nbformat.read(path, as_version=4).cells)
    for i, cell in enumerate(report.cells):
        cell["id"] = f"report-{i:04d}"  # ids must be unique across the joined notebooks
    write_atomic(args.out_html, export_html(report))


PARAMETER_DECLARATION = re.compile(r"^\s*let\s+([A-Za-z_$][\w$]*)", re.M)


def describe(args):
    """Print, as JSON, what the TypeScript side needs of each notebook: the knobs its `parameters` cell declares
    with `let` (null without such a cell) and its title (the first line of its first markdown cell)."""
    import nbformat
    facts = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
        heading = next((c for c in nb.cells if c.cell_type == "markdown"), None)
        title = heading.source.split("\n")[0].lstrip("#").strip() if heading is not None else os.path.basename(path)
        facts.append({
            "notebook": path,
            "parameters": None if cell is None else PARAMETER_DECLARATION.findall(cell.source),
            "title": title,
        })
    print(json.dumps(facts))


def serve(args):
    """Jupyter in this process (exec), dying with our parent; Download as HTML exports like the report does, and
    the live page gets plotly.js from <base>/static/plotly.min.js (lib/notebook/plots.ts loads it there)."""
    config = [
        "--HTMLExporter.template_name=mnist-lab",
        f"--HTMLExporter.extra_template_basedirs={json.dumps([TEMPLATES])}",
        '--HTMLExporter.preprocessors=["nbtool.InlinePlotly"]',
        f"--NotebookApp.extra_static_paths={PLOTLY_DIR}",
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(os.path.abspath(__file__)), env.get("PYTHONPATH")]))
    os.execve(args.jupyter, [args.jupyter, *args.args, *config], env)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("execute")
    ex.add_argument("notebook")
    ex.add_argument("--cwd", required=True)
    ex.add_argument("--kernel", required=True)
    ex.add_argument("--params", default="")
    ex.add_argument("--out-ipynb", required=True)
    ex.add_argument("--out-html", required=True)
    ex.add_argument("--timeout", type=int, default=3600)
    co = sub.add_parser("combine")
    co.add_argument("--title", required=True)
    co.add_argument("--intro", required=True)
    co.add_argument("--out-html", required=True)
    co.add_argument("notebooks", nargs="+")
    de = sub.add_parser("describe")
    de.add_argument("notebooks", nargs="+")
    se = sub.add_parser("serve")
    se.add_argument("jupyter")
    se.add_argument("args", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    die_with_parent(parent_pid())
    {"execute": execute, "combine": combine, "describe": describe, "serve": serve}[args.command](args)


if __name__ == "__main__":
    main()
else:
    InlinePlotly = plotly_preprocessor()
