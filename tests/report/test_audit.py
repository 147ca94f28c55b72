"""The hash-chained audit trail: one record per run, tamper evidence naming the line."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from goldgate.cli import main
from goldgate.report import audit
from tests.postgres import postgres_for_tests
from tests.report.conftest import read_json

Project = Callable[..., pytest.Pytester]


def _facts(decision: str = "GO", **kw: object) -> audit.RunFacts:
    base: dict[str, object] = dict(
        environment="staging", production=False, version="v1.2.0", previous_version="v1.1.0",
        image="trading-bot:v1.2.0", kube_context="staging", namespace="trading-staging",
        deployment="trading-bot-staging", change="CHG-7", reason="weekly release", decision=decision,
        reasons=[], exit_status=0, counts={"passed": 3}, actions=[], started_at="t0", finished_at="t1",
    )
    base.update(kw)
    return audit.RunFacts(**base)  # type: ignore[arg-type]


def _log(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "audit.jsonl"
    for i in range(n):
        audit.append(path, audit.build_record(_facts("GO" if i % 2 else "NO-GO"), environ={}))
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_intact_chain_verifies(tmp_path: Path) -> None:
    path = _log(tmp_path)
    count, problems = audit.verify(path)
    assert (count, problems) == (4, [])
    recs = audit.read_records(path)
    assert [r["seq"] for r in recs] == [1, 2, 3, 4]
    assert recs[0]["prev_hash"] == audit.GENESIS
    assert recs[1]["prev_hash"] == audit.line_hash(_lines(path)[0].encode())


def test_edited_record_is_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    lines[1] = lines[1].replace('"decision":"GO"', '"decision":"NO-GO"')
    _write(path, lines)
    _, problems = audit.verify(path)
    assert [str(p) for p in problems] == [
        "line 2: record seq 2 was edited: its content does not match its record_hash",
        "line 3: prev_hash does not match record seq 2 (line 2): that record was edited or replaced",
    ]


def test_edit_with_recomputed_hash_is_caught_by_the_next_record(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    rec = json.loads(lines[1])
    rec["what"]["version"] = "v6.6.6"
    rec["record_hash"] = audit.record_hash(rec)
    lines[1] = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    _write(path, lines)
    _, problems = audit.verify(path)
    assert [p.line for p in problems] == [3]
    assert "record seq 2 (line 2)" in problems[0].message and "edited or replaced" in problems[0].message


def test_removed_record_is_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    del lines[2]
    _write(path, lines)
    _, problems = audit.verify(path)
    assert [str(p) for p in problems] == ["line 3: record seq 4 follows seq 2: record seq 3 was removed"]


def test_removed_first_record_is_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    _write(path, _lines(path)[1:])
    _, problems = audit.verify(path)
    assert "record seq 1 was removed" in str(problems[0]) and problems[0].line == 1


def test_reordered_records_are_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    _write(path, lines)
    _, problems = audit.verify(path)
    assert [p.line for p in problems] == [2, 3]
    assert all("reordered" in p.message for p in problems)


def test_truncated_line_is_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = _lines(path)
    lines[3] = lines[3][:40]
    _write(path, lines)
    _, problems = audit.verify(path)
    assert [str(p) for p in problems] == ["line 4: not a JSON record: edited or truncated"]


def test_cli_verify_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _log(tmp_path)
    assert main(["audit", "verify", "--file", str(path)]) == 0
    assert "OK — 4 record(s)" in capsys.readouterr().out
    lines = _lines(path)
    del lines[1]
    _write(path, lines)
    assert main(["audit", "verify", "--file", str(path)]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "line 2: record seq 3 follows seq 1: record seq 2 was removed" in out
    assert main(["audit", "verify", "--file", str(tmp_path / "missing.jsonl")]) == 2


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"

    def writer() -> None:
        for _ in range(10):
            audit.append(path, audit.build_record(_facts(), environ={}))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert audit.verify(path) == (40, [])


def test_actor_prefers_ci_identity() -> None:
    gh = audit.actor({"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "release-bot", "GITHUB_REPOSITORY": "org/bot",
                      "GITHUB_RUN_ID": "42"})
    assert gh == {"user": "release-bot", "via": "github-actions", "run": "org/bot#42"}
    gl = audit.actor({"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "jdoe", "CI_PROJECT_PATH": "g/bot", "CI_PIPELINE_ID": "7"})
    assert gl["user"] == "jdoe" and gl["via"] == "gitlab-ci"
    assert audit.actor({})["via"] == "local"


def test_every_run_appends_a_record_with_who_what_where_why(gg_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDGATE_ACTOR", "qa-engineer")
    p = gg_project("passing", "breach")
    p.runpytest("--reason=nightly gate")
    p.runpytest("-k", "error_rate")
    path = p.path / "reports" / "audit.jsonl"
    first, second = audit.read_records(path)
    assert first["who"]["user"] == "qa-engineer"
    assert first["what"]["version"] == "v9.9.9"
    assert first["where"] == {"environment": "local", "production": False, "kube_context": "sandbox",
                              "namespace": "trading", "deployment": "trading-bot"}
    assert first["why"]["reason"] == "nightly gate"
    assert first["status"]["decision"] == "NO-GO" and first["status"]["pytest_exit_status"] == 1
    assert second["status"]["decision"] == "GO"
    assert first["when"]["started"] <= first["when"]["finished"]
    assert audit.verify(path) == (2, [])
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "GO"
    assert doc["run_id"] == second["run_id"], "verdict.json and its audit record share the run id"


def test_mutating_actions_are_recorded(gg_project: Project) -> None:
    p = gg_project()
    p.makepyfile(test_rollback_action='''
        from goldgate.verdict import Verdict, expect

        def test_roll_back(safety):
            safety.require("roll back deployment/trading-bot")
            safety.record("rollout undo", "deployment/trading-bot", "done", to_revision=3)
            expect(Verdict.passed("rollback completed", 3, 3))
    ''')
    assert p.runpytest("--allow-mutations").ret == 0
    [rec] = audit.read_records(p.path / "reports" / "audit.jsonl")
    assert rec["actions"] == [{"action": "rollout undo", "target": "deployment/trading-bot", "outcome": "done",
                               "change": None, "to_revision": 3}]
    assert read_json(p.path / "reports" / "verdict.json")["actions"][0]["action"] == "rollout undo"


# --------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def postgres_url() -> object:
    with postgres_for_tests() as url:
        yield url


def test_postgres_sink_keeps_a_copy_that_catches_a_rewritten_file(
    gg_project: Project, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = f"goldgate_audit_{os.getpid()}"
    monkeypatch.setattr(audit.PostgresAuditSink, "TABLE", table)
    monkeypatch.setenv("AUDIT_DATABASE_URL", postgres_url)
    p = gg_project("passing")
    p.runpytest("--audit-postgres=env:AUDIT_DATABASE_URL")
    p.runpytest("--audit-postgres=env:AUDIT_DATABASE_URL")
    path = p.path / "reports" / "audit.jsonl"
    records = audit.read_records(path)
    stored = audit.PostgresAuditSink(postgres_url, table=table).read_all()
    assert [r["record_hash"] for r in stored] == [r["record_hash"] for r in records]
    assert [r["seq"] for r in stored] == [1, 2]

    # Dropping the last line leaves a self-consistent file: only the database copy tells.
    _write(path, _lines(path)[:-1])
    assert audit.verify(path)[1] == []
    from goldgate.report.audit_cli import compare_with_postgres

    problems = compare_with_postgres(audit.read_records(path), stored)
    assert problems == [f"record seq 2 (run {records[1]['run_id']}) is in PostgreSQL but not in the file: removed"]
    monkeypatch.setattr(audit.PostgresAuditSink, "TABLE", table)
    assert main(["audit", "verify", "--file", str(path)]) == 0
    assert main(["audit", "verify", "--file", str(path), "--postgres", "env:AUDIT_DATABASE_URL"]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "is in PostgreSQL but not in the file: removed" in out


def test_unreachable_postgres_warns_and_keeps_the_file_record(gg_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_DATABASE_URL", "postgresql://auditor:Sup3rSecretPw@127.0.0.1:9/audit")
    p = gg_project("passing")
    result = p.runpytest("--audit-postgres=env:AUDIT_DATABASE_URL")
    assert result.ret == 0
    out = result.stdout.str()
    assert "audit record not copied to PostgreSQL" in out
    assert "Sup3rSecretPw" not in out
    assert len(audit.read_records(p.path / "reports" / "audit.jsonl")) == 1


def test_a_run_outside_pytest_is_audited_with_its_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from goldgate.config import load_environment
    from goldgate.safety import SafetyPolicy

    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "staging.yaml").write_text(
        "name: staging\nkubernetes: {kubeconfig: /nonexistent, context: staging, namespace: trading-staging}\n"
        "release: {version: v1.2.0}\n")
    env = load_environment("staging", tmp_path / "envs")
    safety = SafetyPolicy("staging", production=False, allow_mutations=True, change="CHG-9")
    safety.record("rollout undo", "deployment/trading-bot", "done")
    monkeypatch.setenv("GOLDGATE_REASON", "watch after deploy")
    path = tmp_path / "audit.jsonl"
    stored = audit.record_command_run(path, env, safety, decision="ROLLBACK", reasons=["error rate 3 %"],
                                      exit_status=1, started_at=audit.utc_now(), args=["watch"])
    assert stored["where"]["kube_context"] == "staging" and stored["where"]["namespace"] == "trading-staging"
    assert stored["why"] == {"change": "CHG-9", "reason": "watch after deploy", "approvals": None}
    assert stored["actions"][0]["action"] == "rollout undo"
    assert audit.verify(path) == (1, [])
