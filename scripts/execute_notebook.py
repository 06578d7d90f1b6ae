#!/usr/bin/python3
"""Execute one notebook headless with injected parameters and export it to HTML.

Called by lib/report.ts (the only caller). Papermill's convention without papermill (not in Debian):
the cell tagged `parameters` keeps its defaults, and a cell tagged `injected-parameters` right after
it assigns the run's values. On a failing cell it prints one JSON line {"error": {...}} naming the
cell and exits 1; nothing is written then, so a failed run never replaces a good output.

usage: execute_notebook.py IN.ipynb --cwd DIR --kernel NAME --params JSON --out-ipynb F --out-html F [--timeout S]
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


def inject_parameters(nb, assignments):
    """Insert the injected-parameters cell after the parameters cell (or first, if there is none)."""
    if not assignments:
        return
    index = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    cell = nbformat.v4.new_code_cell(assignments)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index, cell)


ERROR_LINE = re.compile(r"^([A-Za-z_$][\w$]*(?:Error|Exception)): (.*)$")


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
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started = [i for i in code_cells if nb.cells[i].get("execution_count") is not None]
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
        "codeCell": code_cells.index(failed) + 1 if failed is not None else None,
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--cwd", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--params", default="")
    ap.add_argument("--out-ipynb", required=True)
    ap.add_argument("--out-html", required=True)
    ap.add_argument("--timeout", type=int, default=3600)
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    inject_parameters(nb, args.params)
    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                            resources={"metadata": {"path": args.cwd}})
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        print(json.dumps({"error": describe_failure(nb, args.notebook, err)}))
        sys.exit(1)
    exporter = HTMLExporter(template_name="lab")
    html, _ = exporter.from_notebook_node(nb)
    write_atomic(args.out_ipynb, nbformat.writes(nb))
    write_atomic(args.out_html, html)


if __name__ == "__main__":
    main()
