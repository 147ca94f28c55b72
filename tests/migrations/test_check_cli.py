"""``goldgate check migrations``: rules by stable id, text/JSON/SARIF, exit codes 0/1/2,
models-match through alembic's compare_metadata, the previous release's queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.migrations.projects import Project, check, orders_project

MODELS = '''
import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("symbol", sa.String(16), nullable=False),
    sa.Column("client_order_id", sa.String(64), nullable=True, unique=True),
{extra})
'''


def _models(project: Project, package: str, extra: str = "") -> str:
    folder = project.root / package
    folder.mkdir()
    (folder / "__init__.py").write_text("", encoding="utf-8")
    (folder / "db.py").write_text(MODELS.format(extra=extra), encoding="utf-8")
    return f"{package}.db:metadata"


def _by_rule(run_stdout: str) -> dict[str, dict[str, object]]:
    return {f["rule"]: f for f in json.loads(run_stdout)}


def test_healthy_project_is_exit_0_with_optional_rules_not_run(healthy: Project) -> None:
    run = check(str(healthy.root), "--format", "json")
    assert run.returncode == 0, run.stdout
    rules = _by_rule(run.stdout)
    assert list(rules) == ["single-head", "upgrade", "reversible", "models-match", "backward-compatible",
                           "descriptive-names"]
    assert rules["models-match"]["status"] == "NOT RUN" and "--models" in str(rules["models-match"]["message"])
    assert rules["backward-compatible"]["status"] == "NOT RUN"
    assert all(rules[r]["status"] == "PASS" for r in ("single-head", "upgrade", "reversible", "descriptive-names"))


def test_models_match_passes_on_the_models_the_migrations_build(healthy: Project) -> None:
    ref = _models(healthy, "orders_app")
    run = check(str(healthy.root), "--models", ref, "--format", "json")
    assert run.returncode == 0, run.stdout
    assert _by_rule(run.stdout)["models-match"]["status"] == "PASS"


def test_models_match_fails_naming_the_difference(healthy: Project) -> None:
    ref = _models(healthy, "orders_drift", '    sa.Column("venue", sa.String(20), nullable=True),\n')
    run = check(str(healthy.root), "--models", ref)
    assert run.returncode == 1, run.stdout
    line = next(x for x in run.stdout.splitlines() if x.startswith("FAIL models-match"))
    assert "observed 1, expected 0" in line
    assert "column orders.venue in the models, not in the migrated schema" in line


def test_models_that_do_not_import_are_an_error_naming_them(healthy: Project) -> None:
    run = check(str(healthy.root), "--models", "no_such_package.db:metadata", "--format", "json")
    assert run.returncode == 2
    finding = _by_rule(run.stdout)["models-match"]
    assert finding["status"] == "ERROR" and "no_such_package.db:metadata: cannot import" in str(finding["message"])


@pytest.mark.parametrize(("sql", "status", "code"), [
    ("SELECT id, symbol FROM orders;\n-- the v1 dashboard\nSELECT count(*) FROM orders;", "PASS", 0),
    ("SELECT price FROM orders;", "FAIL", 1),
    ("-- nothing kept from v1\n", "INCONCLUSIVE", 2),
])
def test_previous_release_queries(healthy: Project, tmp_path: Path, sql: str, status: str, code: int) -> None:
    previous = tmp_path / "v1.1.0.sql"
    previous.write_text(sql, encoding="utf-8")
    run = check(str(healthy.root), "--previous-sql", str(previous), "--format", "json")
    assert run.returncode == code, run.stdout
    finding = _by_rule(run.stdout)["backward-compatible"]
    assert finding["status"] == status, finding
    if status == "FAIL":
        assert finding["observed"] == "1 of 1 failing" and finding["expected"] == "0 failing"
        assert "price" in str(finding["message"])


def test_missing_previous_sql_stops_the_command(healthy: Project, tmp_path: Path) -> None:
    run = check(str(healthy.root), "--previous-sql", str(tmp_path / "nope.sql"))
    assert run.returncode == 2 and "--previous-sql" in run.stderr and "no such file" in run.stderr


def test_sarif_points_at_the_revision_that_fails(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    bad = project.revision("add order note column for traders",
                           'op.add_column("orders", sa.Column("note", sa.String(200), nullable=True))', "pass")
    run = check(str(project.root), "--format", "sarif")
    assert run.returncode == 1
    results = json.loads(run.stdout)["runs"][0]["results"]
    failing = [r for r in results if r["ruleId"] == "reversible"]
    assert len(failing) == 1 and failing[0]["level"] == "error"
    assert failing[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(project.file_of(bad))
    assert "orders.note left behind" in failing[0]["message"]["text"]


def test_text_output_shows_value_and_threshold(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("create accounts table for the risk branch",
                     'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))',
                     'op.drop_table("accounts")', head="base", branch_label="risk")
    run = check(str(project.root))
    assert run.returncode == 1
    line = next(x for x in run.stdout.splitlines() if x.startswith("FAIL single-head"))
    assert "observed 2, expected 1" in line and "2 heads" in line
