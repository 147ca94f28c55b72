"""The gate features end to end through pytest-bdd: the healthy reference release passes,
a planted release fault fails exactly its scenario, a missing project is an error naming
the path. (Scenarios that need the sandbox cluster are deselected here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_ONLY = ["features/documentation", "features/configuration", "features/migrations", "features/recovery",
                "features/checklist"]
# Also out: the standby region and the order database's evidence (two regions), the quarterly drill
# and the rollback rehearsal (this run keeps no audit trail and rolls nothing back).
NO_CLUSTER = ("not staging_matches and not services_are and not pods_are_ready and not monitoring_is "
              "and not firewall_rules and not rollback_procedure "
              "and not no_other_deployment and not standby_region and not failover_drill_passed "
              # the order database's evidence (two regions: its PostgreSQL, backup job and WAL archive)
              "and not recovery_point_objective and not verified_by_a_restore and not pointintime "
              "and not order_database and not pg_dump and not restore_rate and not second_region "
              "and not twice_a_day")

pytestmark = pytest.mark.slow


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "gate", "--verdict-file=",
         "-k", NO_CLUSTER, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_healthy_reference_release_is_go(tmp_path: Path) -> None:
    run = _pytest(tmp_path, *PROJECT_ONLY)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_release_fault_fails_its_scenario(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "features/documentation", "features/checklist", "--sandbox-fault=unpinned-dependency")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 failed" in run.stdout
    assert "test_all_dependencies_are_pinned_to_exact_versions" in run.stdout
    assert "requirements.lock:3 'numpy>=2.1' is not pinned with ==" in run.stdout


def test_missing_project_is_an_error_naming_the_path(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "ci.yaml").write_text(
        "name: ci\nkubernetes:\n  kubeconfig: /nonexistent/kubeconfig\nhttp:\n  base_url: http://127.0.0.1:9\n"
        f"release:\n  version: v1.2.0\n  project: {tmp_path / 'checkout'}\n  artifacts: {tmp_path / 'ci-artifacts'}\n"
        f"  manifest: release.yaml\n", encoding="utf-8")
    run = _pytest(tmp_path, "--env=ci", f"--environments-dir={envs}", "features/documentation",
                  "-k", "changelog")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 error" in run.stdout
    assert f"{tmp_path / 'checkout' / 'CHANGELOG.md'}: changelog not found" in run.stdout


def test_a_crash_looping_release_is_judged_no_go_with_its_pods_state(tmp_path: Path) -> None:
    """A broken release is judged, not refused: the sandbox comes up with its pods in
    CrashLoopBackOff and the checks on services and pods FAIL naming that state."""
    verdict_file = tmp_path / "verdict.json"
    run = _pytest(tmp_path, "features/checklist", "--sandbox-fault=crash-loop", f"--verdict-file={verdict_file}",
                  "-k", "services_are or pods_are_ready")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "sandbox could not start" not in run.stdout + run.stderr
    assert "2 failed" in run.stdout, run.stdout[-3000:]
    assert json.loads(verdict_file.read_text(encoding="utf-8"))["decision"] == "NO-GO"
    lines = [line for line in run.stdout.splitlines() if line.startswith("  features/") and ": FAIL: " in line]
    services = next(line for line in lines if "all services provisioned and available" in line)
    pods = next(line for line in lines if "bot pods Ready, no restarts" in line)
    assert "0 ready endpoints" in services and "CrashLoopBackOff" in services and " restarts" in services
    assert "observed 3 unhealthy pods vs threshold 0" in pods and "CrashLoopBackOff" in pods
