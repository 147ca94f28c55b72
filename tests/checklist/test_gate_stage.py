"""The GO / NO-GO stage end to end: ``pytest --env=local -m gate`` on the sandbox is GO
when healthy, and a release fault that needs the cluster (drifted staging spec) makes it
NO-GO with exactly that scenario failed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def _gate(tmp_path: Path, *args: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOLDGATE_SANDBOX_DIR": str(state or tmp_path / "state")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--env=local", "-m", "gate", "-p", "no:cacheprovider", "-q",
         f"--verdict-file={tmp_path / 'verdict.json'}", f"--audit-log={tmp_path / 'audit.jsonl'}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


QUARTERLY = "features/recovery/test_failover.py::test_a_failover_drill_passed_within_the_last_quarter"
REHEARSED = "features/checklist/test_checklist.py::test_the_rollback_procedure_was_tested_within_the_last_month"


def test_gate_stage_on_the_sandbox(tmp_path: Path) -> None:
    import json

    # A fresh audit trail holds no failover drill and no rollback rehearsal: those two checks are
    # taken out here and shown NO-GO on their own below (tests/regions/test_drill.py passes the
    # drill on a drill's record; the main job rehearses its rollbacks before it reads them).
    healthy = _gate(tmp_path / "healthy", "--deselect", QUARTERLY, "--deselect", REHEARSED)
    assert healthy.returncode == 0, healthy.stdout[-3000:]
    assert json.loads((tmp_path / "healthy" / "verdict.json").read_text())["decision"] == "GO"
    drifted = _gate(tmp_path / "drifted", "features/checklist", "--sandbox-fault=drifted-staging", "--deselect", REHEARSED)
    assert drifted.returncode == 1, drifted.stdout[-3000:]
    failed = [line for line in drifted.stdout.splitlines() if line.startswith(("FAILED", "E   "))]
    assert "1 failed" in drifted.stdout, "\n".join(failed)  # every failure's message, not the output's tail
    assert "FAILED features/checklist/test_checklist.py::test_staging_matches_production" in drifted.stdout
    assert "resources.limits.memory: staging '1Gi', production '2Gi'" in drifted.stdout


def test_no_drill_on_record_is_no_go(tmp_path: Path) -> None:
    """The quarterly-drill gate on a fresh audit trail: it cannot read a drill, so no GO.

    The three runs read only their audit trails, so they share one sandbox (kept between
    them, stopped at the end) instead of starting one each."""
    import json

    from goldgate.sandbox import lifecycle

    state = tmp_path / "state"
    try:
        done = _gate(tmp_path, QUARTERLY, "--keep-sandbox", state=state)
        assert done.returncode == 1, done.stdout[-3000:]
        verdict = json.loads((tmp_path / "verdict.json").read_text())
        assert verdict["decision"] == "NO-GO"
        assert "does not exist: no record of any failover drill" in done.stdout
        untracked = _gate(tmp_path / "no-trail", QUARTERLY, "--audit-log=", "--keep-sandbox", state=state)
        assert untracked.returncode == 1, untracked.stdout[-3000:]
        assert "no audit trail in this run (--audit-log is empty)" in untracked.stdout
        unrehearsed = _gate(tmp_path / "unrehearsed", REHEARSED, "--keep-sandbox", state=state)
        assert unrehearsed.returncode == 1, unrehearsed.stdout[-3000:]
        assert "no rollback rehearsal in the trail" in unrehearsed.stdout
    finally:
        lifecycle.stop(state)
