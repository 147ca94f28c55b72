"""The team's layout and vocabulary, reader by reader: no stand-ins from the reference
release, the team's headings, ticket form, changelog words, TOML configuration and flags,
backups dated and checked by what their tools record."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from goldgate.config import Environment
from goldgate.criteria import configuration as conf
from goldgate.criteria import operational, recovery
from goldgate.probes import database
from goldgate.probes.artifacts import ArtifactUnavailable, botconfig, changelog, runbooks
from goldgate.probes.artifacts.locations import resolve
from goldgate.probes.artifacts.manifest import ReleaseManifest
from goldgate.release_policy import (
    DEFAULT_CHANGE_TICKET,
    DEFAULT_CHANGELOG_SECTIONS,
    RUNBOOK_SUBJECTS,
    ConfigurationPolicy,
)
from goldgate.verdict import Status
from tests.postgres import postgres_for_tests

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _env(tmp_path: Path, **recovery: str) -> Environment:
    env = Environment.model_validate({"name": "team", "release": {"version": "1.0.0", "project": "../app",
                                                                  "manifest": "release.yaml"},
                                      "recovery": {"backups": "../backups", **recovery}})
    (tmp_path / "environments").mkdir(exist_ok=True)
    return env.model_copy(update={"source_file": str(tmp_path / "environments" / "team.yaml")})


# ----------------------------------------------------------------------------- locations
def test_relative_paths_are_relative_to_the_environment_file(tmp_path: Path) -> None:
    inputs = resolve(_env(tmp_path), Path("/somewhere/else"))
    assert inputs.project == tmp_path / "app"
    assert inputs.backups == tmp_path / "backups"
    assert inputs.manifest == tmp_path / "app" / "release.yaml"


def test_an_unset_postgresql_conf_is_never_the_reference_release(tmp_path: Path) -> None:
    inputs = resolve(_env(tmp_path), tmp_path)
    assert inputs.postgresql_conf is None
    with pytest.raises(ArtifactUnavailable, match=r"recovery\.postgresql_conf is not set"):
        inputs.need("postgresql_conf")


# ----------------------------------------------------------------------------- runbooks
def _book(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text, encoding="utf-8")


def test_runbooks_by_subject_with_the_team_s_headings(tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    words = "Do the thing and write down what happened in the change ticket. " * 5
    for stem in ("deploy", "revert", "faq", "incidents", "oncall"):
        _book(folder, stem, f"# {stem}\n\n## 1. Before you start:\n{words}\n### Procedure\n{words}\n")
    books = runbooks.read_runbooks(folder)
    required = {s: ["Before you start", "Procedure"] for s in RUNBOOK_SUBJECTS}
    verdict = operational.runbooks_complete(books, required, str(folder), RUNBOOK_SUBJECTS, 30)
    assert verdict.status is Status.PASS, verdict.message()
    required["rollback"] = ["When to revert"]
    verdict = operational.runbooks_complete(books, required, str(folder), RUNBOOK_SUBJECTS, 30)
    assert verdict.status is Status.FAIL
    assert f"{folder / 'revert.md'}: section 'When to revert' missing" in verdict.message()


def test_a_missing_subject_and_a_stub_fail(tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    _book(folder, "deployment", "# Deploy\n\nTODO\n")
    verdict = operational.runbooks_complete(runbooks.read_runbooks(folder), {"deployment": [], "on-call": []},
                                            str(folder), RUNBOOK_SUBJECTS, 30)
    assert verdict.status is Status.FAIL
    assert "3 words, a stub (at least 30)" in verdict.message()
    assert f"{folder}/on-call.md missing (accepted names: on-call, oncall" in verdict.message()


# ----------------------------------------------------------------------------- change ticket
@pytest.mark.parametrize("ticket", ["CHG0031337", "OPS-4411", "CHG-2026-1142", "#812", "acme/ledger#812"])
def test_the_default_ticket_pattern_accepts_the_common_forms(ticket: str) -> None:
    verdict = operational.change_ticket(ReleaseManifest("release.yaml", change_ticket=ticket), DEFAULT_CHANGE_TICKET)
    assert verdict.status is Status.PASS, verdict.message()


def test_a_team_s_pattern_rejects_other_forms_naming_value_and_pattern() -> None:
    verdict = operational.change_ticket(ReleaseManifest("release.yaml", change_ticket="CHG-2026-1142"), r"CHG\d{7}")
    assert verdict.status is Status.FAIL
    assert "change_ticket CHG-2026-1142 does not match CHG\\d{7}" in verdict.message()
    assert operational.change_ticket(ReleaseManifest("r.yaml", change_ticket="x"), "(").status is Status.ERROR


# ----------------------------------------------------------------------------- changelog
KEEP_A_CHANGELOG = """# Changelog
## [Unreleased]
## [2.4.0] - 2026-11-28
### Added
- Bulk export (flag `bulk_export`).
### Changed
- **BREAKING** totals are in cents.
- Faster start-up.
### Fixed
- Rounding.
### Removed
- The legacy endpoint.
"""


def test_keep_a_changelog_sections_count_as_the_guide_s(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(KEEP_A_CHANGELOG, encoding="utf-8")
    log = changelog.categorised(changelog.read_changelog(path), DEFAULT_CHANGELOG_SECTIONS)
    entry = log.entry("v2.4.0")
    assert entry is not None
    assert entry.sections["Features"] == ["Bulk export (flag `bulk_export`)."]
    assert entry.sections["Fixes"] == ["Rounding."]
    assert entry.sections["Breaking Changes"] == ["**BREAKING** totals are in cents.", "The legacy endpoint."]
    assert entry.sections["Changed"] == ["Faster start-up."]
    flags = [botconfig.Flag("bulk_export", False, "", None, 2)]
    verdict = conf.features_have_killswitch(entry, flags, str(path), "features.toml")
    assert verdict.status is Status.FAIL
    assert "features.toml:2: flag bulk_export: killswitch is not true" in verdict.message()
    ok = conf.features_have_killswitch(entry, [botconfig.Flag("bulk_export", True, "", None, 2)], str(path), "f")
    assert ok.status is Status.PASS


def test_a_feature_without_a_flag_fails_naming_it_even_with_no_flags_file(tmp_path: Path) -> None:
    """No flags file at all is no excuse: the feature has no flag anywhere (FAIL), not a missing input."""
    path = tmp_path / "CHANGELOG.md"
    path.write_text(KEEP_A_CHANGELOG, encoding="utf-8")
    entry = changelog.categorised(changelog.read_changelog(path), DEFAULT_CHANGELOG_SECTIONS).entry("v2.4.0")
    flags = botconfig.read_flags_if_present(tmp_path / "config" / "flags.yaml")
    assert flags is None
    verdict = conf.features_have_killswitch(entry, flags, str(path), str(tmp_path / "config" / "flags.yaml"))
    assert verdict.status is Status.FAIL
    assert "no flags file" in verdict.message() and "no flag bulk_export for feature 'Bulk export" in verdict.message()


# ----------------------------------------------------------------------------- configuration
def test_toml_configuration_and_flags_with_the_team_s_keys(tmp_path: Path) -> None:
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings/prod.toml").write_text("[limits]\nsoft = 5\nhard = 3\n", encoding="utf-8")
    (tmp_path / "features.toml").write_text("[export]\nkillswitch = true\nremove_after = 2026-11-30\n", encoding="utf-8")
    configs = botconfig.read_configs(tmp_path, ["settings/*.toml"])
    (rule,) = ConfigurationPolicy(rules=["limits.soft below limits.hard"]).parsed_rules()
    verdict = conf.dependency_holds(configs, *rule)
    assert verdict.status is Status.FAIL
    assert "prod.toml: limits.soft = 5 is not below limits.hard = 3" in verdict.message()
    flags = botconfig.read_flags(tmp_path / "features.toml", cleanup_key="remove_after")
    assert flags == [botconfig.Flag("export", True, "", dt.date(2026, 11, 30), 1)]
    assert conf.flags_not_stale(flags, NOW.date(), "features.toml").status is Status.FAIL


def test_a_rule_that_does_not_parse_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 'KEY below"):
        ConfigurationPolicy(rules=["risk is fine"])


# ----------------------------------------------------------------------------- backups
def _sqlite_backup(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "app.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
        conn.execute("CREATE TABLE entries (id INTEGER)")
        conn.executemany("INSERT INTO entries VALUES (?)", [(i,) for i in range(5)])
    conn.close()
    digest = subprocess.run(["sha256sum", db.name], cwd=folder, capture_output=True, text=True, check=True).stdout
    (folder / f"{db.name}.sha256").write_text(digest, encoding="utf-8")
    return db


def test_a_backup_is_verified_by_its_checksum_and_the_migrated_head(tmp_path: Path) -> None:
    db = _sqlite_backup(tmp_path / "backups")
    (latest,) = database.list_backups(tmp_path / "backups")
    assert latest.checksum == hashlib.sha256(db.read_bytes()).hexdigest()
    result = database.restore(Path(latest.path), checksum=latest.checksum)
    assert (result.ok, result.integrity, result.schema_head, result.tables) == (True, "ok", "abc123", {"entries": 5})
    verdict = recovery.restore_matches(result, latest.tables, "abc123")
    assert verdict.status is Status.PASS, verdict.message()
    assert "sha256 matches, schema at abc123" in verdict.message()
    earlier = recovery.restore_matches(replace(result, checksum_ok=None), None, "def456", revisions={"abc123", "def456"})
    assert earlier.status is Status.PASS, earlier.message()
    foreign = recovery.restore_matches(result, None, "def456", revisions={"def456"})
    assert foreign.status is Status.FAIL
    assert "restored schema is at abc123, not a revision of the project's migrations" in foreign.message()


def test_the_project_s_revisions_are_read_from_its_migration_scripts(tmp_path: Path) -> None:
    versions = tmp_path / "db" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a_first.py").write_text('revision = "aaa111"\ndown_revision = None\n', encoding="utf-8")
    (versions / "b_second.py").write_text("revision: str = 'bbb222'\ndown_revision = 'aaa111'\n", encoding="utf-8")
    assert database.known_revisions(tmp_path) == {"aaa111", "bbb222"}


def test_a_backup_that_no_longer_matches_its_checksum_fails(tmp_path: Path) -> None:
    db = _sqlite_backup(tmp_path / "backups")
    with db.open("ab") as fh:
        fh.write(b"\0")
    (latest,) = database.list_backups(tmp_path / "backups")
    result = database.restore(Path(latest.path), checksum=latest.checksum)
    verdict = recovery.restore_matches(result, None)
    assert verdict.status is Status.FAIL
    assert "does not match the recorded" in verdict.message()


def test_a_restore_with_nothing_to_compare_is_inconclusive(tmp_path: Path) -> None:
    db = _sqlite_backup(tmp_path / "backups")
    result = database.restore(db)
    assert recovery.restore_matches(result, None).status is Status.INCONCLUSIVE


def test_a_base_backup_is_dated_by_its_backup_label(tmp_path: Path) -> None:
    base = tmp_path / "backups" / "base-20261120"
    base.mkdir(parents=True)
    (base / "backup_label").write_text("START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
                                       "START TIME: 2026-11-20 03:00:00 UTC\nLABEL: nightly\n", encoding="utf-8")
    (backup,) = database.list_backups(tmp_path / "backups")
    assert (backup.kind, backup.taken_at, backup.dated_by) == ("base", dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC), "backup_label")
    on = database.PitrSettings("postgresql.conf", {"wal_level": "replica", "archive_mode": "on", "archive_command": "cp %p /a/%f"})
    assert recovery.pitr_enabled(on, [backup], NOW, 7).status is Status.PASS


def test_archiving_off_in_the_named_postgresql_conf_fails_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "postgresql.conf"
    path.write_text("wal_level = replica\narchive_mode = off\n", encoding="utf-8")
    verdict = recovery.pitr_enabled(database.pitr_from_conf(path), [], NOW, 7)
    assert verdict.status is Status.FAIL
    assert f"{path}: archive_mode = off (needs on)" in verdict.message()


def test_a_sqlite_database_has_no_point_in_time_recovery() -> None:
    settings = database.pitr_from_url("sqlite:////srv/app.db")
    verdict = recovery.pitr_enabled(settings, [], NOW, 7)
    assert verdict.status is Status.FAIL
    assert "database.url sqlite:////srv/app.db: a sqlite database has no write-ahead-log archive" in verdict.message()


@pytest.mark.slow
def test_a_pg_dump_is_dated_by_its_own_table_of_contents(tmp_path: Path) -> None:
    with postgres_for_tests() as url:
        dump = tmp_path / "ledger.dump"
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        database.pg_dump(url, dump)
        created = database.dump_created_at(dump)
    assert created is not None and created >= before - dt.timedelta(seconds=1)
    (backup,) = database.list_backups(tmp_path)
    assert backup.dated_by == "pg_restore TOC"


# ----------------------------------------------------------------------------- release.yaml schema
def test_env_check_validates_the_release_manifest_naming_file_and_field(tmp_path: Path) -> None:
    import sys

    envs = tmp_path / "environments"
    envs.mkdir()
    (tmp_path / "app").mkdir()
    (envs / "team.yaml").write_text("name: team\nrelease:\n  version: 1.0.0\n  project: ../app\n"
                                    "  manifest: release.yaml\n", encoding="utf-8")
    manifest = tmp_path / "app" / "release.yaml"
    manifest.write_text("version: 1.0.0\nchange_ticket: CHG0031337\napprovals:\n  - role: reviewer\n"
                        "deployment_window:\n  start: '2026-12-01T10:00:00'\n  end: 2026-12-01T12:00:00Z\n"
                        "database:\n  migration_head: 5e1d9c0a7b21\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "goldgate.cli", "env", "check", "--dir", str(envs)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 4, run.stdout + run.stderr
    assert f"INVALID {manifest}: approvals.0:" in run.stderr
    assert f"INVALID {manifest}: deployment_window:" in run.stderr
    manifest.write_text("version: 1.0.0\nauthor: sam\napprovals: [lee]\n"
                        "deployment_window: {start: 2026-12-01T10:00:00Z, end: 2026-12-01T12:00:00Z}\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "goldgate.cli", "env", "check", "--dir", str(envs)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "matches release.schema.json" in run.stdout


def test_tls_url_sandbox_does_not_lend_the_reference_release(tmp_path: Path) -> None:
    """The no-leakage rule stops the run at load (exit 4, one line), and env check says the same."""
    import os
    import sys

    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "team.yaml").write_text(
        "name: team\nkubernetes:\n  kubeconfig: /nonexistent/kubeconfig\nhttp:\n  base_url: http://127.0.0.1:9\n"
        "  tls_url: sandbox\nrelease:\n  version: 1.0.0\n  project: ../app\n", encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "gate", "--env=team",
         f"--environments-dir={envs}", f"--verdict-file={tmp_path / 'verdict.json'}",
         f"--audit-log={tmp_path / 'audit.jsonl'}", "-k", "tls", "features/checklist"],
        cwd=root, env={**os.environ, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state")},
        capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 4, run.stdout[-2000:] + run.stderr[-2000:]
    refusal = "http.tls_url: 'sandbox' is not an https:// URL"
    assert refusal in run.stderr, run.stderr[-2000:]
    assert " passed" not in run.stdout and " failed" not in run.stdout, run.stdout[-2000:]
    assert not list(tmp_path.rglob("release-artifacts"))
    check = subprocess.run([sys.executable, "-m", "goldgate.cli", "env", "check", "--dir", str(envs), "team"],
                           capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 4 and refusal in check.stderr, check.stdout + check.stderr
