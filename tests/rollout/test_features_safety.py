"""Mutating rollout scenarios never run, and never pass, without --allow-mutations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_destructive_rollout_scenarios_skip_with_the_missing_flag(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    env = {**os.environ, "GOLDGATE_SANDBOX_DIR": str(state_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--env=local", "-m", "rollout and destructive", "-p", "no:cacheprovider",
         "-q", "-rs", "--verdict-file=", f"--junitxml={tmp_path / 'junit.xml'}", "--audit-log=",
         "features/rollback", "features/strategies"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert " passed" not in out.splitlines()[-1], out[-2000:]
    assert "skipped" in out.splitlines()[-1]
    assert "changes the cluster: mutations are disabled: pass --allow-mutations" in out
    # skipped before any fixture: no sandbox was started for them
    assert not state_dir.exists() or not any(state_dir.iterdir())
