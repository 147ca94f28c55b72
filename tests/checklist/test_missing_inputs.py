"""A check that cannot find its input is ERROR naming the path — never PASS, never FAIL."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from goldgate.sandbox import release
from goldgate.verdict import Status
from tests.checklist.harness import run_checks

pytestmark = pytest.mark.slow

# (what to remove, relative to the release root) -> the checks that must turn ERROR
MISSING = {
    "artifacts/junit.xml": {"tests-passed"},
    "artifacts/coverage.xml": {"coverage"},
    "artifacts/bandit.sarif": {"security-scan"},
    "project/.secrets.baseline": {"no-secrets"},
    "project/requirements.lock": {"dependencies-pinned"},
    "project/CHANGELOG.md": {"changelog", "feature-flags-killswitch"},
    "project/alembic.ini": {"single-head", "upgrade", "reversible", "backward-compatible", "descriptive-names",
                            "models-match", "migrations-prepared"},
    "project/migrations/smoke": {"backward-compatible"},
    "ops/backups": {"backups-fresh", "backups-restorable", "restore-within-rto", "pitr"},
    "ops/postgresql.conf": {"pitr"},
    "project/deploy/k8s": {"staging-matches-production"},
    "project/deploy/prometheus": {"alert-rules-tested"},
    "project/runbooks": {"runbooks"},
    "project/release.yaml": {"on-call", "approvals", "deployment-window", "migrations-prepared", "change-ticket",
                             "manifest-version"},
    "project/config": {"config-schema", "config-dependencies", "config-secrets", "feature-flags-killswitch",
                       "feature-flags-cleanup"},
    "ops/tls": {"tls"},
}


@pytest.mark.parametrize("removed", sorted(MISSING))
def test_missing_input_is_an_error_naming_the_path(removed: str, build_release: Callable[..., release.Workspace],
                                                   now: dt.datetime) -> None:
    ws = build_release()
    target = ws.root / removed
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    verdicts = run_checks(ws, now)
    errors = {k for k, v in verdicts.items() if v.status is Status.ERROR}
    assert errors == MISSING[removed], {k: verdicts[k].message() for k in errors ^ MISSING[removed]}
    for name in errors:
        assert Path(removed).name in verdicts[name].reason, verdicts[name].reason
    others = {k: v.message() for k, v in verdicts.items() if k not in errors and v.status is not Status.PASS}
    assert not others


def test_a_whole_release_missing_errors_everywhere(build_release: Callable[..., release.Workspace], now: dt.datetime) -> None:
    ws = build_release()
    for child in ws.root.iterdir():
        shutil.rmtree(child)
    verdicts = run_checks(ws, now)
    assert {v.status for v in verdicts.values()} == {Status.ERROR}, {k: v.message() for k, v in verdicts.items() if v.status is not Status.ERROR}
    assert all(str(ws.root) in v.reason for v in verdicts.values())


def test_unparsable_reports_are_errors(build_release: Callable[..., release.Workspace], now: dt.datetime) -> None:
    ws = build_release()
    (ws.artifacts / "junit.xml").write_text("<testsuites><testcase", encoding="utf-8")
    (ws.artifacts / "coverage.xml").write_text("<report/>", encoding="utf-8")
    (ws.artifacts / "bandit.sarif").write_text("{not json", encoding="utf-8")
    verdicts = run_checks(ws, now)
    assert "not valid JUnit XML" in verdicts["tests-passed"].reason
    assert "not a Cobertura report" in verdicts["coverage"].reason
    assert "not a SARIF document" in verdicts["security-scan"].reason
    assert all(verdicts[k].status is Status.ERROR for k in ("tests-passed", "coverage", "security-scan"))
