#!/usr/bin/env bash
# Creates .venv from the lock file and installs goldgate into it (editable).
# Every dependency, including the build backend, comes pinned from requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# --no-deps: the lock is a complete freeze; botocore declares python-dateutil<3 while the
# kubernetes client declares >=3, and both work with the pinned 4.0.0 (tests/secrets prove it).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
.venv/bin/python -c "import goldgate; print('goldgate', goldgate.__version__, 'installed in .venv')"
