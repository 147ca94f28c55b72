#!/usr/bin/env bash
# Re-pins requirements.lock from the current .venv (after changing pyproject.toml deps).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Pinned with: scripts/lock.sh (pip freeze of a venv built from pyproject.toml). Do not edit by hand."
  .venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip=='
} > requirements.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) pinned packages"
