#!/usr/bin/env bash
# The documentation check (issue 32): builds the site with `mkdocs build --strict` into site/,
# then serves it on 127.0.0.1 and opens every page in headless Chromium (.ci/docs_check.py),
# failing on an empty page, a console message or a missing file, and saves screenshots of a few
# pages under build/docs-screenshots/ (gitignored: look at them, do not commit them).
# The tools live in .venv-docs, installed from setup.cfg's `docs` extra alone (mkdocstrings reads
# the source, so the package and its backends are not installed there); reinstalled only when
# that extra changes. Chromium is the Debian package `chromium`, installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$PY" ]; then echo "docs: no python3 found" >&2; exit 1; fi
venv=.venv-docs
reqs=$("$PY" -c 'import configparser
c = configparser.ConfigParser()
c.read("setup.cfg")
print(" ".join(c["options.extras_require"]["docs"].split()))')
stamp=$venv/.docs_installed
if [ "$(cat "$stamp" 2>/dev/null)" != "$reqs" ]; then
  echo "docs: installing $venv ($reqs)"
  [ -x $venv/bin/python ] || "$PY" -m venv $venv
  read -ra requirements <<< "$reqs"  # one word each; quoted below, so `[python]` is no glob
  $venv/bin/python -m pip install -q --disable-pip-version-check "${requirements[@]}"
  echo "$reqs" > "$stamp"
fi
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "docs: installing chromium (apt-get)"
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "docs: no chromium; install it (Debian: sudo apt-get install -y chromium)" >&2; exit 1
  fi
fi
start=$SECONDS
NO_MKDOCS_2_WARNING=1 $venv/bin/mkdocs build --strict --clean --site-dir site
$venv/bin/python .ci/docs_check.py site --screenshots build/docs-screenshots
echo "docs: built and checked in $((SECONDS - start)) s"
