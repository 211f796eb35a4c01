#!/usr/bin/env bash
# Sets up planforge on a Debian or Ubuntu machine: the system libraries the PDF stack needs
# (Pango, HarfBuzz subsetting, the two fonts PDFs are set in), git, then a virtual environment in
# .venv with planforge installed from this folder. Safe to run again: it installs only what is
# missing.
#   ./install.sh          planforge itself
#   ./install.sh --test   planforge and what its tests need
set -euo pipefail
cd "$(dirname "$0")"

# Exact versions of every Python dependency, from a lock file (refreshed by requirements/update):
# the PDF stack's versions decide the PDFs' bytes as much as the fonts do.
lock=requirements/runtime.lock
[ "${1:-}" = "--test" ] && lock=requirements/test.lock

# Debian packages, installed only where missing (dpkg knows; no network when all are there).
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation fonts-noto-cjk
          fontconfig git poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import ensurepip' 2>/dev/null && command -v apt-get >/dev/null; then
  # Debian splits venv's pip bootstrap out of python3 itself.
  [ "$(id -u)" -ne 0 ] && sudo="sudo" || sudo=""
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
fi
if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "planforge needs Python 3.11 or later; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --no-deps -r "$lock"
# planforge itself, resolving nothing: its dependencies are in place and the locked setuptools
# builds it.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
# An editable install leaves planforge's modules uncompiled, and where PYTHONDONTWRITEBYTECODE is
# set every command would compile them again (about a tenth of a second): compile them now, as
# installing a wheel does.
.venv/bin/python -m compileall -q src/planforge >/dev/null
.venv/bin/python -m pip check >/dev/null || {
  echo "the installed packages do not fit together; run requirements/update" >&2
  .venv/bin/python -m pip check >&2
  exit 1
}
echo "planforge installed: $(.venv/bin/planforge --version)"
