"""Suite runs goldgate's own tests start in the checkout leave its reports/junit.xml alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_suite_run_these_tests_start_in_the_checkout_leaves_reports_junit_alone(
        tmp_path: Path, _child_runs_write_junit_elsewhere: Path) -> None:
    """The main job's reports/junit.xml survives the own tests run after it in the same checkout."""
    before = (ROOT / "reports" / "junit.xml").read_bytes() if (ROOT / "reports" / "junit.xml").exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only", "--verdict-file=",
         "--audit-log=", "--env=local", "smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    after = (ROOT / "reports" / "junit.xml").read_bytes() if (ROOT / "reports" / "junit.xml").exists() else None
    assert after == before
    assert _child_runs_write_junit_elsewhere.is_file()
