"""The gate's migration steps on a generated project: models-match against the models the
environment names (``release.models``), skipped — NOT RUN — when it names none."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from goldgate.verdict import CriterionBreached
from steps import migrations as steps
from tests.migrations.projects import Project
from tests.migrations.test_check_cli import _models


class _Release:
    def __init__(self, project: Path) -> None:
        self.project = project

    def need(self, name: str) -> Path:
        assert name == "project"
        return self.project


def _target(project: Project, models: str | None) -> steps.MigrationTarget:
    environment = SimpleNamespace(release=SimpleNamespace(models=models, previous_version="v1.1.0"),
                                  database=SimpleNamespace(scratch_url=None))
    return steps.MigrationTarget(_Release(project.root), environment, {})  # type: ignore[arg-type]


def test_models_match_step_passes_on_matching_models(healthy: Project) -> None:
    steps.models_match(_target(healthy, _models(healthy, "gate_models")))


def test_models_match_step_fails_on_drifted_models(healthy: Project) -> None:
    ref = _models(healthy, "gate_drift", '    sa.Column("venue", sa.String(20), nullable=True),\n')
    with pytest.raises(CriterionBreached, match=r"column orders\.venue in the models"):
        steps.models_match(_target(healthy, ref))


def test_models_match_step_is_not_run_without_release_models(healthy: Project) -> None:
    with pytest.raises(pytest.skip.Exception, match=r"release\.models not set"):
        steps.models_match(_target(healthy, None))


def test_scenarios_share_one_walk(healthy: Project) -> None:
    target = _target(healthy, None)
    steps.upgrade(target)
    steps.reversible(target)
    assert len(target.walks) == 1
