"""The readiness probe on what real writers produce: goldgate's own audit trail (written by
its audit writer after a rollback through the safety policy), the sandbox's materialised
release, real HTTP servers; and on broken inputs, which name file and field."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from goldgate.config import Timeouts
from goldgate.criteria import readiness
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.readiness import probe_channel, read_audit_runs, read_readiness
from goldgate.report import audit
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Status
from tests.conftest import free_port

FAST = Timeouts(connect_s=1, read_s=1, retries=0, backoff_s=0)


def _env(name: str, production: bool) -> SimpleNamespace:
    release = SimpleNamespace(version="v1.2.0", previous_version="v1.1.0", image="trading-bot:v1.2.0")
    kube = SimpleNamespace(is_sandbox=False, context="ctx", namespace="trading", deployment="trading-bot")
    return SimpleNamespace(name=name, production=production, release=release, kubernetes=kube)


def _record_rollback(path: Path, env_name: str, production: bool, outcome: str = "done") -> None:
    safety = SafetyPolicy(env_name, production, allow_mutations=True, change="CHG-1" if production else None)
    safety.record("rollout undo", "deployment/trading-bot -n trading", outcome, reason="automatic rollback")
    audit.record_command_run(path, _env(env_name, production), safety, decision="ROLLBACK", reasons=["p95"],
                             exit_status=1, started_at=audit.utc_now())


def test_rehearsal_in_goldgates_own_audit_trail_counts(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _record_rollback(log, "production", True)
    _record_rollback(log, "staging", False)
    runs = read_audit_runs(log)
    assert [r.environment for r in runs] == ["production", "staging"]
    v = readiness.rollback_rehearsed(runs, now=dt.datetime.now(dt.UTC), max_age_days=30)
    assert v.status is Status.PASS and "in staging" in v.reason


def test_production_rollbacks_alone_are_no_rehearsal(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _record_rollback(log, "production", True)
    _record_rollback(log, "staging", False, outcome="failed")
    v = readiness.rollback_rehearsed(read_audit_runs(log), now=dt.datetime.now(dt.UTC), max_age_days=30)
    assert v.status is Status.FAIL


def test_an_edited_audit_trail_is_not_evidence(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _record_rollback(log, "staging", False)
    log.write_text(log.read_text().replace('"staging"', '"staging2"'))
    with pytest.raises(ArtifactUnavailable, match=r"audit\.jsonl: the audit trail does not verify"):
        read_audit_runs(log)
    with pytest.raises(ArtifactUnavailable, match="audit trail not found"):
        read_audit_runs(tmp_path / "missing.jsonl")


def test_sandbox_release_carries_healthy_readiness_evidence(tmp_path: Path) -> None:
    from goldgate.sandbox import release

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ws = release.materialise(tmp_path / "rel", [], cache_dir=tmp_path / "cache", now=now)
    facts = read_readiness(ws.manifest)
    assert readiness.channel_answers(probe_channel(facts.channel_url, FAST)).status is Status.PASS
    assert readiness.notified_before_window(facts.notifications, audience="stakeholders",
                                            window_start=facts.window_start).status is Status.PASS
    assert readiness.on_call_covers_window(facts.shifts, window_start=facts.window_start,
                                           window_end=facts.window_end).status is Status.PASS
    # No rehearsal record is made up: the check reads the rollbacks goldgate really did.
    assert facts.rehearsal_log is None
    assert not list(ws.root.rglob("*.jsonl")), "the sandbox writes no audit record of its own"


class _Status(http.server.BaseHTTPRequestHandler):
    code = 503

    def do_GET(self) -> None:
        self.send_response(self.code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def down_channel() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/x?token=1"
    server.shutdown()
    server.server_close()


def test_channel_answering_503_fails(down_channel: str) -> None:
    v = readiness.channel_answers(probe_channel(down_channel, FAST))
    assert v.status is Status.FAIL and "observed 503" in v.message()


def test_unreachable_channel_is_an_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/x"
    with pytest.raises(ArtifactUnavailable, match=r"hooks/x: the communication channel did not answer: connection"):
        probe_channel(url, FAST)
    with pytest.raises(ArtifactUnavailable, match=r"communication\.url is not set"):
        probe_channel(None, FAST)


@pytest.mark.parametrize(("text", "message"), [
    ("version: [unclosed", "YAML syntax error"),
    ("- a list", "expected a mapping at the top level"),
    ("notifications: {audience: x}", "notifications: expected a list, got dict"),
    ("notifications: [stakeholders]", r"notifications\[0\]: expected a mapping, got str"),
    ("notifications: [{audience: s, sent_at: '2026-12-01T10:00:00'}]", r"notifications\[0\]\.sent_at: .* no time zone"),
    ("on_call_schedule: [{name: d, start: yesterday}]", r"on_call_schedule\[0\]\.start: not an ISO-8601 time"),
    ("communication: {url: 'chat.example.com/x'}", r"communication\.url: not an http"),
    ("deployment_window: 5", "deployment_window: expected"),
])
def test_broken_manifests_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(text)
    with pytest.raises(ArtifactUnavailable, match=message) as info:
        read_readiness(path)
    assert str(path) in str(info.value)


def test_missing_manifest_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ArtifactUnavailable, match="release manifest not found"):
        read_readiness(tmp_path / "release.yaml")
