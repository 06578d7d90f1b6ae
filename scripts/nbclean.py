#!/usr/bin/python3
"""Git clean filter for the notebooks (nbstripout's job; nbstripout is not in Debian): reads a notebook on
stdin and writes it on stdout without outputs, execution counts and the browser's view state, in the layout
Jupyter saves (nbformat: one-space indent, keys sorted, UTF-8, a final newline), so a clean notebook passes
through byte for byte and a notebook opened and saved unchanged is no change, whatever order its keys came in.
A notebook saved from the browser after running it is committed as the clean notebook it was. set-up configures
it in .git/config, with `cat` as the smudge side: a `required` filter without one makes git fail every checkout
of a notebook (stash, restore, checkout), leaving it deleted.

  git config filter.mnist-lab-nbclean.clean "/usr/bin/python3 scripts/nbclean.py"
  git config filter.mnist-lab-nbclean.smudge cat

and .gitattributes applies it to notebooks/*.ipynb. Input that is not a notebook passes through unchanged
(git must never lose a file, e.g. one with merge-conflict markers).
"""
import json
import sys

# Cell metadata a browser session writes: collapsed or scrolled outputs, execution timing.
VIEW_STATE = ("collapsed", "scrolled", "execution", "ExecuteTime", "trusted")
# Notebook metadata that only describes a session (widget state, the notebook's trust signature).
SESSION_METADATA = ("widgets", "signature")


def clean(nb):
    """The notebook without outputs, execution counts or session state; everything else as it was."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in VIEW_STATE:
            metadata.pop(key, None)
    for key in SESSION_METADATA:
        nb.get("metadata", {}).pop(key, None)
    return nb


def main():
    raw = sys.stdin.buffer.read()
    try:
        nb = json.loads(raw.decode("utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no cells")
    except ValueError as err:
        sys.stderr.write(f"nbclean: Expected a notebook (JSON with cells) but found {type(err).__name__}: {err}; left unchanged\n")
        sys.stdout.buffer.write(raw)
        return
    text = json.dumps(clean(nb), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))


if __name__ == "__main__":
    main()
