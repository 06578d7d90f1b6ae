#!/usr/bin/python3
"""Headless notebook tools for lib/report.ts (their only caller), on Debian's nbclient and nbconvert.

execute: run one notebook with injected parameters and export it to HTML. Papermill's convention
  without papermill (not in Debian): the cell tagged `parameters` keeps its defaults, and a cell tagged
  `injected-parameters` right after it assigns the run's values. On a failing cell it prints one JSON
  line {"error": {...}} naming the cell and exits 1; nothing is written then.
combine: join executed notebooks into one offline HTML report, plotly.js inlined once.

usage: nbtool.py execute IN.ipynb --cwd DIR --kernel NAME --params CODE --out-ipynb F --out-html F [--timeout S]
       nbtool.py combine --title T --intro MARKDOWN --out-html F EXECUTED.ipynb ...
"""
import argparse
import json
import re
import os
import sys
import tempfile

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")
# lib/plots.ts wraps the plotly.js bundle between these two markers.
PLOTLY_START = "<script>(function(){var d=window.define,m=window.module;"
PLOTLY_END = "}finally{window.define=d;window.module=m;}})();</script>"


def inject_parameters(nb, assignments):
    """Insert the injected-parameters cell after the parameters cell (or first, if there is none)."""
    if not assignments:
        return
    index = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    cell = nbformat.v4.new_code_cell(assignments)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index, cell)


ERROR_LINE = re.compile(r"^((?:[A-Za-z_$][\w$]*)?(?:Error|Exception)): (.*)$")


def parse_error_text(text):
    """(name, message) of a JS error as tslab prints it: a location, the source line, a caret, then
    `RangeError: message`; a TypeScript compile error is `1:7 - message`."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        m = ERROR_LINE.match(line.strip())
        if m:
            return m.group(1), m.group(2)
    return "Error", lines[0].strip() if lines else ""


def describe_failure(nb, notebook, err):
    """Which code cell failed and its error. tslab reports errors on stderr rather than as error outputs,
    so the failed cell is the last one that started executing."""
    # Numbered as the user sees the notebook: the injected-parameters cell does not count.
    code_cells = [i for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    started = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None]
    failed = started[-1] if started else None
    ename, evalue = type(err).__name__, ""
    if failed is not None:
        for out in nb.cells[failed].get("outputs", []):
            if out.get("output_type") == "error":
                ename, evalue = out.get("ename", ename), out.get("evalue", "")
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and out.get("text", "").strip():
                ename, evalue = parse_error_text(out["text"])
    return {
        "notebook": os.path.basename(notebook),
        "cell": failed,
        "codeCell": code_cells.index(failed) + 1 if failed in code_cells else None,
        "ename": ename,
        "evalue": evalue,
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


def export_html(nb):
    """HTML with the project's offline template (the lab look, without require.js and MathJax tags)."""
    exporter = HTMLExporter(template_name="mnist-lab", extra_template_basedirs=[TEMPLATES])
    html, _ = exporter.from_notebook_node(nb)
    return html


def execute(args):
    nb = nbformat.read(args.notebook, as_version=4)
    inject_parameters(nb, args.params)
    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                            resources={"metadata": {"path": args.cwd}})
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        print(json.dumps({"error": describe_failure(nb, args.notebook, err)}))
        sys.exit(1)
    write_atomic(args.out_ipynb, nbformat.writes(nb))
    write_atomic(args.out_html, export_html(nb))


def strip_plotly_after_first(nb, seen):
    """Drop every inlined plotly.js bundle but the first of the whole report (each kernel inlined its own)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if html is None:
                continue
            text = "".join(html) if isinstance(html, list) else html
            start = text.find(PLOTLY_START)
            if start < 0:
                continue
            end = text.find(PLOTLY_END, start)
            if end < 0:
                continue
            if seen:
                text = text[:start] + text[end + len(PLOTLY_END):]
            seen = True
            out["data"]["text/html"] = text
    return seen


def combine(args):
    report = nbformat.v4.new_notebook()
    report.metadata = {"title": args.title, "kernelspec": {"name": "mnist-lab", "display_name": "TypeScript (mnist-lab)", "language": "typescript"},
                       "language_info": {"name": "typescript"}}
    report.cells.append(nbformat.v4.new_markdown_cell(args.intro))
    seen = False
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        seen = strip_plotly_after_first(nb, seen)
        report.cells.extend(nb.cells)
    for i, cell in enumerate(report.cells):
        cell["id"] = f"report-{i:04d}"  # ids must be unique across the joined notebooks
    write_atomic(args.out_html, export_html(report))


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
    args = ap.parse_args()
    execute(args) if args.command == "execute" else combine(args)


if __name__ == "__main__":
    main()
