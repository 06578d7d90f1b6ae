#!/usr/bin/env python3
"""Rewrites README's reproduction tables and verdicts (from the seed table's header to the next "### " heading) with
what `bin/mnist-lab results` prints from the committed results/, so README never types a figure by hand."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = "| optimizer | recipe | seeds |"


def main():
    out = subprocess.run([str(ROOT / "bin" / "mnist-lab"), "results"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    if HEADER not in out:
        sys.exit(f"readme_results: expected `mnist-lab results` to print a table starting {HEADER!r} but found none")
    block = out[out.index(HEADER):].rstrip("\n") + "\n"
    readme = ROOT / "README.md"
    text = readme.read_text()
    start = text.index(HEADER)
    end = text.index("\n### ", start)
    readme.write_text(text[:start] + block + text[end:])


if __name__ == "__main__":
    main()
