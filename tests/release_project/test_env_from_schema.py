"""A team writes the environment of its own release ("ledger") from the published schema alone.

The file uses only what ``environment.schema.json`` documents (it validates against it),
``goldgate env check`` calls it ok, the run accepts it (no exit 4), and every check of the
gate either runs, is declared not applicable with its reason, or names the field or record
it is missing — never a silent default, never a pass on nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldgate import envschema
from tests.release_project import builder

ROOT = Path(__file__).resolve().parents[2]
NO_TLS = "ledger has no TLS endpoint of its own (TLS ends at the ingress)"

pytestmark = pytest.mark.slow


def _environment(team: builder.TeamRelease) -> dict[str, Any]:
    """What the team writes, field by field from the schema's table (README)."""
    return {
        "name": "ledger",
        "production": False,
        "kubernetes": {"kubeconfig": str(team.root / "no-cluster" / "kubeconfig"), "namespace": "ledger",
                       "deployment": "ledger", "service": "ledger", "container": "ledger",
                       "label_selector": "app=ledger"},
        "http": {"base_url": "http://127.0.0.1:9"},
        "timeouts": {"connect_s": 0.5, "read_s": 1, "retries": 0, "backoff_s": 0},
        "release": {"version": builder.VERSION, "project": "../ledger", "artifacts": "../ci-out",
                    "manifest": "release/release.yaml", "alert_rules": "monitoring",
                    "migrations_url_env": ["LEDGER_DATABASE_URL"],
                    "layout": {"runbooks": "docs/operations", "changelog": "docs/CHANGELOG.md",
                               "release_notes": f"docs/release-notes/{builder.VERSION}.md",
                               "config": ["deploy/settings/*.toml"], "config_schema": "deploy/settings/schema.json",
                               "flags": "deploy/features.toml"}},
        "database": {"url": f"sqlite:///{team.database}"},  # no password: written as is, no reference needed
        "recovery": {"backups": "../backups"},
        "policy": {"runbooks": {"headings": builder.HEADINGS}, "change_ticket": {"pattern": r"CHG\d{7}"},
                   "configuration": {"rules": builder.RULES, "cleanup_key": "remove_after"}},
        "not_applicable": [{"check": "TLS certificates are valid", "reason": NO_TLS}],
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[builder.TeamRelease, Path]:
    team = builder.build(tmp_path_factory.mktemp("ledger-schema"), dt.datetime.now(dt.UTC))
    path = team.environments / "ledger.yaml"
    path.write_text(yaml.safe_dump(_environment(team), sort_keys=False), encoding="utf-8")
    return team, path


def _schema_fields() -> list[str]:
    return sorted({path.replace("[]", "") for path, *_ in envschema.field_rows()}, key=len, reverse=True)


def _names_field_or_record(text: str) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(f)}(?![\w])", text) for f in _schema_fields() if "." in f) \
        or "/" in text or "(field " in text


def test_the_file_uses_only_what_the_published_schema_documents(written: tuple[builder.TeamRelease, Path]) -> None:
    from jsonschema import Draft202012Validator

    data = yaml.safe_load(written[1].read_text(encoding="utf-8"))
    schema = json.loads(envschema.SCHEMA_FILE.read_text(encoding="utf-8"))
    assert [e.message for e in Draft202012Validator(schema).iter_errors(data)] == []


def test_env_check_and_the_run_agree_and_every_check_runs_is_not_applicable_or_names_what_is_missing(
        written: tuple[builder.TeamRelease, Path]) -> None:
    team, _ = written
    check = subprocess.run([sys.executable, "-m", "goldgate.cli", "env", "check", "--dir", str(team.environments),
                            "ledger"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert check.returncode == 0 and check.stdout.startswith("ok "), check.stdout + check.stderr
    out = team.root / "verdict-ledger.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "gate", "--env=ledger",
         f"--environments-dir={team.environments}", f"--verdict-file={out}",
         f"--audit-log={team.root / 'audit.jsonl'}"],
        cwd=ROOT, env={**os.environ, "GOLDGATE_SANDBOX_DIR": str(team.root / "sandbox-state"),
                       "LEDGER_DATABASE_URL": f"sqlite:///{team.database}"},
        capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert not doc.get("refused"), doc["reasons"]
    unexplained = []
    for test in doc["tests"]:
        name, criteria = test["nodeid"].rsplit("::", 1)[-1], test["criteria"]
        if test["outcome"] == "skipped":
            if test.get("not_applicable"):
                assert test["message"] == f"not applicable: {test['not_applicable']['reason']}"
            elif not _names_field_or_record(test["message"]):
                unexplained.append(f"{name}: NOT RUN without naming a field: {test['message']}")
            continue
        if not criteria:  # the check could not start measuring: it must say what it lacked
            if not (test["message"].startswith(("ERROR", "Failed: ERROR")) and _names_field_or_record(test["message"])):
                unexplained.append(f"{name}: {test['outcome']} without a verdict: {test['message']}")
            continue
        for c in criteria:
            if c["status"] in ("ERROR", "INCONCLUSIVE") and not _names_field_or_record(c["reason"]):
                unexplained.append(f"{name}: {c['status']} without naming what is missing: {c['reason']}")
    assert unexplained == []
    by_name = {t["nodeid"].rsplit("::", 1)[-1]: t for t in doc["tests"]}
    assert by_name["test_tls_certificates_are_valid"]["not_applicable"]["reason"] == NO_TLS
    assert any(e.get("not_applicable") for e in doc["not_applicable"])
    for name, field in (("test_stakeholders_are_notified_before_the_deployment_window", "notifications"),
                        ("test_team_availability_is_confirmed_for_the_whole_deployment_window", "on_call_schedule")):
        [criterion] = by_name[name]["criteria"]
        assert criterion["status"] == "ERROR" and f"(field {field})" in criterion["reason"], criterion
