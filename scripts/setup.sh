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

# GOLDGATE_SETUP_TOOLS=0: the .venv only (a second checkout that shares the first one's tools,
# as .ci/run's own-test checkout does: npm ci would reinstall them under a running sandbox).
if [ "${GOLDGATE_SETUP_TOOLS:-1}" = 0 ]; then exit 0; fi

# The main job's alert-rule checks run the real promtool (Debian package prometheus). Install it
# when this machine can (root with apt-get); otherwise say in one line what is missing.
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${GOLDGATE_NO_APT:-}" != 1 ]; then
    echo "setup: installing promtool (Debian package prometheus) for the alert-rule checks"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # The package starts its own Prometheus on :9090; goldgate's tests start their own.
    systemctl stop prometheus >/dev/null 2>&1 || pkill -x prometheus >/dev/null 2>&1 || true
  fi
  command -v promtool >/dev/null 2>&1 \
    || echo "setup: promtool not found and not installable here: run 'apt-get install prometheus' (alert-rule checks will be ERROR until then)"
fi

# The §4.2 flag-server scenarios run against a real Unleash server the sandbox starts; its
# pinned npm package (tools/unleash) is installed here so command 1 ends GO on a fresh machine.
if command -v npm >/dev/null 2>&1; then
  .venv/bin/goldgate sandbox flags --install \
    || echo "setup: the Unleash server could not be installed (npm ci failed): the flag-server checks will be NOT RUN"
else
  echo "setup: npm not found: install Node.js and npm (Debian: apt-get install npm) for the flag-server checks (NOT RUN until then)"
fi
