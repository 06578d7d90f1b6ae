// scripts/nbclean.py, the notebooks' git clean filter: a notebook saved from the browser with outputs is
// staged without them, a clean notebook passes byte for byte, key order does not matter, set-up configures it
// for this clone, and every git operation that writes a notebook back (stash, restore, checkout) works with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { listNotebooks, projectRoot } from "mnist-lab";
import { tempDir } from "./helpers/idx_fixtures";

const script = path.join(projectRoot(), "scripts", "nbclean.py");
/** The filter as set-up configures it in .git/config. */
const FILTER_CONFIG: Array<[string, string]> = [
  ["filter.mnist-lab-nbclean.clean", "/usr/bin/python3 scripts/nbclean.py"],
  ["filter.mnist-lab-nbclean.smudge", "cat"],
  ["filter.mnist-lab-nbclean.required", "true"],
];

/** A fresh repository with the project's filter, .gitattributes and nbclean.py, configured as set-up does. */
function repoWithFilter(): { repo: string; git: (...args: string[]) => string } {
  const repo = tempDir();
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t",
      },
    });
  git("init", "-q");
  for (const [key, value] of FILTER_CONFIG) git("config", "--local", key, value);
  fs.mkdirSync(path.join(repo, "scripts"));
  fs.mkdirSync(path.join(repo, "notebooks"));
  fs.copyFileSync(script, path.join(repo, "scripts", "nbclean.py"));
  fs.copyFileSync(path.join(projectRoot(), ".gitattributes"), path.join(repo, ".gitattributes"));
  return { repo, git };
}

function clean(input: string): { stdout: string; stderr: string; code: number | null } {
  const r = spawnSync("/usr/bin/python3", [script], { input, encoding: "utf8" });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

/** A notebook as the browser saves it after a run: outputs, counts, view state, widget state. */
function savedFromBrowser(): Record<string, unknown> {
  return {
    cells: [
      { cell_type: "markdown", id: "m", metadata: { collapsed: false }, source: ["# 空值判断"] },
      {
        cell_type: "code",
        execution_count: 7,
        id: "c",
        metadata: { scrolled: true, tags: ["parameters"], execution: { "shell.execute_reply": "2025-01-01T00:00:00Z" } },
        outputs: [
          { output_type: "stream", name: "stdout", text: ["x\n"] },
          { output_type: "display_data", data: { "text/html": "<b>plot</b>" }, metadata: {} },
        ],
        source: ['let profile = "quick";'],
      },
    ],
    metadata: { kernelspec: { name: "mnist-lab" }, widgets: { state: {} } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

test("nbclean strips outputs, execution counts and view state, and keeps sources, tags and kernelspec", () => {
  const r = clean(JSON.stringify(savedFromBrowser()));
  assert.equal(r.code, 0, r.stderr);
  const nb = JSON.parse(r.stdout);
  assert.deepEqual(nb.cells[1].outputs, []);
  assert.equal(nb.cells[1].execution_count, null);
  assert.deepEqual(nb.cells[1].metadata, { tags: ["parameters"] });
  assert.deepEqual(nb.cells[0].metadata, {});
  assert.deepEqual(nb.cells[0].source, ["# 空值判断"], "text stays UTF-8");
  assert.deepEqual(nb.metadata, { kernelspec: { name: "mnist-lab" } });
  assert.ok(r.stdout.includes("空值判断") && r.stdout.endsWith("}\n"), "Jupyter's layout: UTF-8, final newline");
  assert.equal(clean(r.stdout).stdout, r.stdout, "idempotent");
});

test("nbclean passes every committed notebook through byte for byte", () => {
  for (const nb of listNotebooks()) {
    const text = fs.readFileSync(nb, "utf8");
    assert.ok(clean(text).stdout === text, `${path.basename(nb)} changes when cleaned`);
  }
});

test("nbclean passes what is not a notebook through unchanged, saying so", () => {
  const r = clean("<<<<<<< HEAD\n{}\n");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "<<<<<<< HEAD\n{}\n");
  assert.match(r.stderr, /^nbclean: Expected a notebook \(JSON with cells\) but found JSONDecodeError/);
});

test("nbclean as a git clean filter: git add stages a notebook without its outputs", () => {
  const { repo, git } = repoWithFilter();
  fs.writeFileSync(path.join(repo, "notebooks", "00_x.ipynb"), JSON.stringify(savedFromBrowser(), null, 1));
  git("add", "notebooks/00_x.ipynb");
  const staged = JSON.parse(git("show", ":notebooks/00_x.ipynb"));
  assert.deepEqual(staged.cells[1].outputs, []);
  assert.equal(staged.cells[1].execution_count, null);
  assert.equal(git("status", "--porcelain", "notebooks"), "A  notebooks/00_x.ipynb\n", "the file on disk keeps its outputs");
});

test("nbclean sorts keys as Jupyter does: a notebook opened and saved unchanged is no change", () => {
  const { repo, git } = repoWithFilter();
  const file = path.join(repo, "notebooks", "00_x.ipynb");
  const reordered = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reordered)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reordered(v)]),
          )
        : value;
  const jupyterSaved = clean(JSON.stringify(savedFromBrowser(), null, 1)).stdout;
  const otherOrder = JSON.stringify(reordered(JSON.parse(jupyterSaved)), null, 1) + "\n";
  assert.notEqual(otherOrder, jupyterSaved);
  assert.equal(clean(otherOrder).stdout, jupyterSaved, "the filter's output does not depend on key order");
  fs.writeFileSync(file, otherOrder);
  git("add", ".");
  git("commit", "-q", "-m", "a notebook in another key order");
  // Jupyter writes nbformat's layout (sorted keys): the same notebook, other bytes of the same size.
  fs.writeFileSync(file, jupyterSaved);
  assert.equal(git("status", "--porcelain", "notebooks"), "", "git sees no change in a notebook whose keys only moved");
});

test("nbclean keeps git working on notebooks: stash, stash pop, restore and checkout of an edited notebook", () => {
  const { repo, git } = repoWithFilter();
  const file = path.join(repo, "notebooks", "00_x.ipynb");
  const first = clean(JSON.stringify(savedFromBrowser(), null, 1)).stdout;
  fs.writeFileSync(file, first);
  git("add", ".");
  git("commit", "-q", "-m", "first");
  const edited = first.replace('let profile = \\"quick\\";', 'let profile = \\"full\\";');
  assert.notEqual(edited, first, "the edit changes the notebook");
  fs.writeFileSync(file, edited);
  git("stash");
  assert.equal(fs.readFileSync(file, "utf8"), first, "stash puts the committed notebook back");
  git("stash", "pop");
  assert.equal(fs.readFileSync(file, "utf8"), edited, "stash pop brings the edit back");
  git("restore", "notebooks/00_x.ipynb");
  assert.equal(fs.readFileSync(file, "utf8"), first, "restore puts the committed notebook back");
  fs.writeFileSync(file, edited);
  git("commit", "-q", "-am", "second");
  git("checkout", "-q", "HEAD~1");
  assert.equal(fs.readFileSync(file, "utf8"), first, "checking out the older commit writes its notebook");
  fs.rmSync(file);
  git("checkout", "--", "notebooks/");
  assert.equal(fs.readFileSync(file, "utf8"), first, "checkout -- notebooks/ brings a deleted notebook back");
});

test("set-up configured the clean filter for this clone, and .gitattributes applies it to the notebooks", () => {
  const git = (...args: string[]) => execFileSync("git", ["-C", projectRoot(), ...args], { encoding: "utf8" }).trim();
  for (const [key, value] of FILTER_CONFIG) assert.equal(git("config", "--local", "--get", key), value, `${key}: run \`npm run setup\``);
  assert.equal(git("check-attr", "filter", "notebooks/00_data.ipynb"), "notebooks/00_data.ipynb: filter: mnist-lab-nbclean");
});
