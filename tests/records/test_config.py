"""The environment's ``records:`` section: what a team may write, what is refused in one line,
and the readers it selects (secrets resolved through goldgate.secrets, never in a message)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from goldgate.config import EnvironmentFileError, load_environment
from goldgate.probes.records import read
from tests.records import test_jira as jr
from tests.records import test_servicenow as sn
from tests.records.fake import serve

BASE = "name: team\nkubernetes: {kubeconfig: /nonexistent}\nrelease: {version: v1.0.0}\n"


def load(tmp_path: Path, records: str):
    (tmp_path / "team.yaml").write_text(BASE + "records:\n" + records)
    return load_environment("team", tmp_path)


def test_a_change_system_without_credentials_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match=r"team.yaml: records: .*change: needs token, or user and password"):
        load(tmp_path, "  change: {provider: servicenow, url: 'https://acme.service-now.com'}\n")


def test_a_literal_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match=r"records.code_review.token: looks like a literal secret"):
        load(tmp_path, "  code_review: {provider: github, repository: a/b, token: ghp_abcdefghijklmnopqrstuvwxyz0123456789}\n")


def test_an_unknown_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match=r"records.on_call"):
        load(tmp_path, "  on_call: {provider: victorops, url: 'https://x', token: 'env:X'}\n")


def test_change_record_notes_need_a_change_system(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match=r"change_record reads records.change"):
        load(tmp_path, "  notification: {provider: change_record}\n")


def test_servicenow_work_notes_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GG_TEST_SN_PASSWORD", "sn-env-password")
    with serve(sn.table(sn.change())) as fake:
        env = load(tmp_path, f"  change: {{provider: servicenow, url: '{fake.url}', user: svc, "
                             "password: 'env:GG_TEST_SN_PASSWORD'}\n  notification: {provider: change_record}\n")
        notes = read.read_notifications(env.records, sn.START, "CHG0030001")
    assert notes.record_id == "CHG0030001 work notes" and len(notes.messages) == 3
    assert all(r.headers["Authorization"].startswith("Basic ") for r in fake.requests)


def test_jira_cloud_user_and_token_are_basic_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GG_TEST_JIRA_TOKEN", "jira-env-token")
    with serve(jr.server()) as fake:
        env = load(tmp_path, f"  change: {{provider: jira, url: '{fake.url}', start_field: customfield_10050, "
                             "end_field: customfield_10051, user: ops@example.com, token: 'env:GG_TEST_JIRA_TOKEN'}\n")
        change = read.read_change(env.records, "OPS-123")
    assert change.state == "Approved" and change.planned_end == dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC)
    assert fake.requests[0].headers["Authorization"].startswith("Basic ")
