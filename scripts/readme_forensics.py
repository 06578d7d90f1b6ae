#!/usr/bin/env python3
"""Rewrites README's forensics verdicts (from "**The loss.**" to the next "### " heading) with what
`bin/mnist-lab forensics summary` prints from the committed forensics/, so README never types a verdict by hand."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADINGS = {"loss": "The loss.", "headStart": "Adam's head start.", "collapse": "RMSprop's first epoch.", "padding": "The padding."}


def main():
    out = subprocess.run([str(ROOT / "bin" / "mnist-lab"), "forensics", "summary"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    sections, current = {}, None
    for line in out.splitlines():
        if line.endswith(":") and not line.startswith("- "):
            current = line[:-1]
            sections[current] = []
        elif current is not None and line.startswith("- "):
            sections[current].append(line)
    missing = [name for name in HEADINGS if name not in sections]
    if missing:
        sys.exit(f"readme_forensics: expected sections {', '.join(HEADINGS)} but found none for {', '.join(missing)}")
    block = "\n".join(f"**{HEADINGS[name]}**\n\n" + "\n".join(sections[name]) + "\n" for name in HEADINGS)
    readme = ROOT / "README.md"
    text = readme.read_text()
    start = text.index("**The loss.**")
    end = text.index("\n### ", start)
    readme.write_text(text[:start] + block + text[end:])


if __name__ == "__main__":
    main()
