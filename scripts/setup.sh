#!/usr/bin/env bash
# One idempotent set-up for mnist-lab: Debian packages, npm ci, the native addon, the TypeScript build,
# and this project's Jupyter kernel. Every step checks whether it is needed, so a second run takes seconds.
# Usage: scripts/setup.sh [--if-needed]   (--if-needed: return at once when the last set-up is still current)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Debian packages: Jupyter (tslab runs inside it), nbconvert/nbclient for headless runs, the C++ toolchain
# and oneDNN for the native backend; Chromium for the browser tests of the exported report, and CJK fonts
# so the report's Chinese headings do not render as boxes.
APT_PACKAGES=(jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel build-essential python3 libdnnl-dev chromium fonts-noto-cjk slurm-wlm munge)

stamp="$root/.setup-stamp"
fingerprint() {
  {
    node --version 2>/dev/null || echo no-node
    echo "skip-native=${MNIST_LAB_SKIP_NATIVE:-0}"
    cat package-lock.json scripts/setup.sh 2>/dev/null
    find lib cli bench native/src native/binding.gyp -type f \( -name '*.ts' -o -name '*.cc' -o -name '*.h' -o -name '*.gyp' \) 2>/dev/null | sort | xargs -r stat -c '%n %Y %s'
  } | sha256sum | cut -d' ' -f1
}
kernel_json="$root/.jupyter/kernels/mnist-lab/kernel.json"
# The notebooks' git clean filter (scripts/nbclean.py, applied by .gitattributes): outputs never get committed.
nbclean_filter="/usr/bin/python3 scripts/nbclean.py"
filter_configured() {
  ! git rev-parse --git-dir >/dev/null 2>&1 || {
    [ "$(git config --local --get filter.mnist-lab-nbclean.clean 2>/dev/null)" = "$nbclean_filter" ] &&
      [ "$(git config --local --get filter.mnist-lab-nbclean.smudge 2>/dev/null)" = cat ]
  }
}
if [ "${1:-}" = "--if-needed" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(fingerprint)" ] && [ -f "$kernel_json" ] && [ -f dist/cli/main.js ] && [ -L node_modules/mnist-lab ] && filter_configured; then
  exit 0
fi
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. Debian packages.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: install them, then run 'npm run setup' again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# 2. npm dependencies, exactly as locked (skipped when node_modules already matches the lockfile).
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/.mnist-lab-lock ] || [ "$(cat node_modules/.mnist-lab-lock)" != "$lock_hash" ]; then
  say "npm ci"
  # nodejs-polars' Linux binary declares node >= 22 but works on 20 (tested); npm only warns about it.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.mnist-lab-lock
fi
# The notebooks and tests import the built library by its package name, so the package links to itself.
node scripts/link-self.js

# 3. The native oneDNN backend (node-gyp rebuilds only when its sources changed).
# MNIST_LAB_SKIP_NATIVE=1 skips it: training then falls back to tfjs's much slower JS backends.
if [ -f native/binding.gyp ] && [ "${MNIST_LAB_SKIP_NATIVE:-0}" != 1 ]; then
  addon="$(ls native/build/Release/*.node 2>/dev/null | head -n 1 || true)"
  if [ -z "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" -print -quit)" ]; then
    say "building the native backend (node-gyp)"
    # node-gyp's "gyp info" lines and the compiler's output go to a log, shown only when the build fails.
    gyp_log="$(mktemp -t mnist-lab-node-gyp.XXXXXX)"
    if ! npx --no-install node-gyp rebuild -C native --jobs "$(nproc)" --loglevel=error >"$gyp_log" 2>&1; then
      tail -n 40 "$gyp_log" >&2
      echo "setup: building the native backend failed; the whole log is $gyp_log" >&2
      exit 1
    fi
    rm -f "$gyp_log"
  fi
fi

# 4. The TypeScript build (dist/), which the CLI, the notebooks and the tests run.
say "building lib/ and cli/"
npm run -s build

# 5. This project's tslab kernel, in the project's own Jupyter path (.jupyter/): nothing global changes.
mkdir -p "$(dirname "$kernel_json")"
node -e '
const [file, node, tslab] = process.argv.slice(1);
const spec = { argv: [node, tslab, "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript (mnist-lab)", language: "typescript" };
const text = JSON.stringify(spec, null, 2) + "\n";
const fs = require("fs");
if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) fs.writeFileSync(file, text);
' "$kernel_json" "$(command -v node)" "$root/node_modules/tslab/bin/tslab"

# 6. The notebooks' clean filter, in this clone's .git/config (nothing global changes).
if git rev-parse --git-dir >/dev/null 2>&1 && ! filter_configured; then
  say "configuring the notebooks' git clean filter"
  git config --local filter.mnist-lab-nbclean.clean "$nbclean_filter"
  # A required filter needs both sides: without a smudge command git fails to check a notebook out.
  git config --local filter.mnist-lab-nbclean.smudge cat
  git config --local filter.mnist-lab-nbclean.required true
fi

fingerprint > "$stamp"
say "ready"
