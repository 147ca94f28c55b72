"""Rehearsals on planted faults run only where the environment allows them (the sandbox).

Collected with the repository's own environment files: the production pipeline's
selection (``-m rollout``) can never stage a rehearsal, because rehearsal scenarios are
deselected — neither run nor reported as not run — outside an environment with
``rehearsals: true``, and such an environment cannot be production or a real cluster.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from goldgate.config import EnvironmentFileError, load_environment
from tests.conftest import ROOT, write_env


def _collect(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--verdict-file=",
         "--audit-log=", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def _rehearsal_ids() -> set[str]:
    ids = set()
    for feature in (ROOT / "features").rglob("*.feature"):
        text = feature.read_text(encoding="utf-8")
        if "@rehearsal" in text:
            ids.add(feature.stem)
    return ids


def test_the_production_rollout_stage_stages_no_rehearsal() -> None:
    items = _collect("--env=production", "-m", "rollout")
    assert items, "the production rollout stage selects the real rollout scenarios"
    assert not [i for i in items if "automatic_rollback" in i or "faulty" in i or "no_traffic" in i
                or "rolled_back" in i or "switches_back" in i or "stalled" in i], items


def test_the_sandbox_runs_every_rehearsal() -> None:
    assert _rehearsal_ids()
    local = _collect("--env=local", "-m", "rollout")
    production = _collect("--env=production", "-m", "rollout")
    assert len(local) > len(production)
    assert any("rolled_back" in i for i in local)


@pytest.mark.parametrize("body", [
    "name: prod2\nproduction: true\nkubernetes: {kubeconfig: ~/.kube/config}\nrelease: {version: v1}\nrehearsals: true\n",
    "name: prod2\nkubernetes: {kubeconfig: ~/.kube/config}\nrelease: {version: v1}\nrehearsals: true\n",
])
def test_rehearsals_are_refused_outside_the_sandbox(tmp_path: Path, body: str) -> None:
    envs = write_env(tmp_path / "envs", "prod2", body)
    with pytest.raises(EnvironmentFileError, match="rehearsals plant faults"):
        load_environment("prod2", envs)
