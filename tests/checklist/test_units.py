"""Boundaries and corner cases of the checklist criteria and readers: the injectable
clock, lock files with hashes, SARIF severities from other scanners, the secrets
baseline, environment files, the restore drill and the standby."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from goldgate.config import Timeouts
from goldgate.criteria import checklist as code
from goldgate.criteria import configuration as conf
from goldgate.criteria import infrastructure, operational, recovery
from goldgate.probes import database, promtool, tls
from goldgate.probes.artifacts import ArtifactUnavailable, botconfig, lockfile, manifest, sarif
from goldgate.probes.artifacts import secrets as secret_scan
from goldgate.probes.http import HttpObservation, HttpProbe
from goldgate.sandbox import release
from goldgate.sandbox.release import create_tls
from goldgate.sandbox.tls_endpoint import TlsEndpoint
from goldgate.verdict import Status

T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


# ----------------------------------------------------------------------------- clock
def _manifest(tmp_path: Path, start: str, end: str) -> manifest.ReleaseManifest:
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump({"version": "v1.2.0", "author": "a", "deployment_window": {"start": start, "end": end}}))
    return manifest.read_manifest(path)


def test_window_edges_with_a_pinned_clock(tmp_path: Path) -> None:
    m = _manifest(tmp_path, "2026-11-26T12:00:00Z", "2026-11-26T14:00:00Z")
    assert operational.inside_window(m, T0).status is Status.PASS
    assert operational.inside_window(m, T0 + dt.timedelta(hours=2)).status is Status.PASS
    early = operational.inside_window(m, T0 - dt.timedelta(seconds=1))
    assert early.status is Status.FAIL and "opens in" in early.reason
    late = operational.inside_window(m, T0 + dt.timedelta(hours=2, seconds=1))
    assert late.status is Status.FAIL and "closed" in late.reason


def test_window_needs_a_time_zone(tmp_path: Path) -> None:
    with pytest.raises(ArtifactUnavailable, match=re.escape("deployment_window.start: '2026-11-26T12:00:00' has no time zone")):
        _manifest(tmp_path, "2026-11-26T12:00:00", "2026-11-26T14:00:00Z")


def test_backup_age_against_the_rpo_with_a_pinned_clock() -> None:
    at = T0 - dt.timedelta(hours=1)
    backups = [database.Backup("b.sqlite3", "full", at, {"orders": 1})]
    assert recovery.latest_backup_fresh(backups, T0, 3600, "backups").status is Status.PASS
    late = recovery.latest_backup_fresh(backups, T0 + dt.timedelta(seconds=1), 3600, "backups")
    assert late.status is Status.FAIL and late.observed == 3601 and late.threshold == 3600
    assert recovery.latest_backup_fresh([], T0, 3600, "backups").status is Status.FAIL


def test_certificate_days_left_with_a_pinned_clock(tmp_path: Path) -> None:
    create_tls(tmp_path, T0, not_after=T0 + dt.timedelta(days=20))
    with TlsEndpoint(tmp_path) as url:
        obs = tls.inspect(url, ca_bundle=str(tmp_path / "ca.pem"))
    assert infrastructure.tls_valid(obs, T0, 14).status is Status.PASS
    soon = infrastructure.tls_valid(obs, T0 + dt.timedelta(days=7), 14)
    assert soon.status is Status.FAIL and "13 days left, need at least 14" in soon.reason


def test_untrusted_chain_fails_and_no_server_is_an_error(tmp_path: Path) -> None:
    create_tls(tmp_path / "a", T0)
    create_tls(tmp_path / "b", T0)
    with TlsEndpoint(tmp_path / "a") as url:
        obs = tls.inspect(url, ca_bundle=str(tmp_path / "b" / "ca.pem"))
        port = int(url.rsplit(":", 1)[1])
    verdict = infrastructure.tls_valid(obs, T0, 14)
    assert verdict.status is Status.FAIL and "self-signed certificate in certificate chain" in verdict.reason
    with pytest.raises(tls.TlsUnavailable, match=f"localhost:{port}"):
        tls.inspect(f"https://localhost:{port}", timeout_s=0.5)


def test_flag_cleanup_date_with_a_pinned_clock(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text("flags:\n  - name: x\n    killswitch: true\n    cleanup_by: '2026-11-26'\n")
    flags = botconfig.read_flags(path)
    assert conf.flags_not_stale(flags, T0.date(), str(path)).status is Status.PASS
    verdict = conf.flags_not_stale(flags, T0.date() + dt.timedelta(days=1), str(path))
    assert verdict.status is Status.FAIL and f"{path}:2 x cleanup_by 2026-11-26" in verdict.reason


# ----------------------------------------------------------------------------- lock files
def test_lockfile_rules(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\nrequests[socks]==2.32.3 ; python_version >= '3.11'\nidna===3.10\n-r other.txt\n")
    assert code.dependencies_pinned(lockfile.read_requirements(path)).status is Status.PASS
    path.write_text("urllib3==2.2.3 \\\n    --hash=sha256:aa\ncertifi==2024.8.30\n")
    verdict = code.dependencies_pinned(lockfile.read_requirements(path))
    assert verdict.status is Status.FAIL and f"{path}:3 'certifi==2024.8.30' has no --hash" in verdict.reason
    path.write_text("numpy\nscipy~=1.14\n")
    verdict = code.dependencies_pinned(lockfile.read_requirements(path))
    assert verdict.status is Status.FAIL and "'numpy' is not pinned" in verdict.reason and "'scipy~=1.14'" in verdict.reason
    path.write_text("# nothing\n")
    assert code.dependencies_pinned(lockfile.read_requirements(path)).status is Status.INCONCLUSIVE


# ----------------------------------------------------------------------------- SARIF
def test_sarif_from_another_scanner_uses_security_severity(tmp_path: Path) -> None:
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CodeQL", "rules": [
        {"id": "py/sql-injection", "properties": {"security-severity": "9.8"}},
        {"id": "py/unused-import", "properties": {}}]}},
        "results": [
            {"ruleId": "py/sql-injection", "level": "warning", "message": {"text": "SQL built from user input"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/db.py"}, "region": {"startLine": 42}}}]},
            {"ruleId": "py/unused-import", "level": "note", "message": {"text": "unused"}}]}]}
    path = tmp_path / "codeql.sarif"
    path.write_text(json.dumps(doc))
    report = sarif.read_sarif(path)
    assert [f.severity for f in report.findings] == ["critical", "low"]
    verdict = code.no_findings_at_or_above(report, "high")
    assert verdict.status is Status.FAIL and "CRITICAL py/sql-injection at app/db.py:42" in verdict.reason
    clean = sarif.SarifReport(report.path, report.runs, report.findings[1:])
    assert code.no_findings_at_or_above(clean, "high").status is Status.PASS


# ----------------------------------------------------------------------------- secrets
def test_baseline_suppresses_an_audited_finding(build_release, now: dt.datetime) -> None:
    ws = build_release("planted-secret")
    found, files = secret_scan.scan_tree(ws.project, ws.project / ".secrets.baseline")
    assert code.no_hardcoded_secrets(found, str(ws.project), files, ".secrets.baseline").status is Status.FAIL
    assert all("Qz7rT2" not in repr(f) for f in found)  # the value never leaves the probe
    baseline = json.loads((ws.project / ".secrets.baseline").read_text())
    from detect_secrets.core.potential_secret import PotentialSecret

    digest = PotentialSecret.hash_secret("Qz7rT2kLm9WxVb4N")
    baseline["results"] = {"trading_bot/broker.py": [
        {"type": found[0].type, "filename": "trading_bot/broker.py", "hashed_secret": digest, "is_verified": False,
         "line_number": 4}]}
    (ws.project / ".secrets.baseline").write_text(json.dumps(baseline))
    found, files = secret_scan.scan_tree(ws.project, ws.project / ".secrets.baseline")
    assert code.no_hardcoded_secrets(found, str(ws.project), files, ".secrets.baseline").status is Status.PASS


# ----------------------------------------------------------------------------- environment files
def test_an_invalid_environment_file_is_named(tmp_path: Path) -> None:
    from goldgate.probes.artifacts.environments import validate_environment_files

    root = Path(__file__).resolve().parents[2] / "environments"
    for f in root.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "broken.yaml").write_text("name: broken\nrelease:\n  version: v1\nthresholds:\n  error_rate: 2\n")
    verdict = conf.environment_files_valid(validate_environment_files(tmp_path), str(tmp_path))
    assert verdict.status is Status.FAIL
    assert "broken.yaml: thresholds.error_rate" in verdict.reason



def test_a_missing_environments_folder_is_unavailable(tmp_path: Path) -> None:
    from goldgate.probes.artifacts.environments import validate_environment_files

    with pytest.raises(ArtifactUnavailable, match=re.escape(f"{tmp_path / 'nowhere'}: environments folder not found")):
        validate_environment_files(tmp_path / "nowhere")


# ----------------------------------------------------------------------------- recovery
def test_restore_slower_than_the_rto_fails(healthy: release.Workspace) -> None:
    latest = database.list_backups(healthy.backups)[-1]
    result = database.restore(Path(latest.path))
    assert recovery.restore_within_rto(result, 900).status is Status.PASS
    verdict = recovery.restore_within_rto(result, 1e-6)
    assert verdict.status is Status.FAIL and "RTO is 1e-06 s" in verdict.reason
    assert recovery.restore_matches(result, None).status is Status.INCONCLUSIVE


def test_standby_health() -> None:
    ok = HttpObservation("GET", "http://127.0.0.1:1/health", status=200, elapsed_ms=3)
    assert recovery.standby_healthy(ok).status is Status.PASS
    assert recovery.standby_healthy(HttpObservation("GET", "http://x/health", status=503)).status is Status.FAIL
    probe = HttpProbe("http://127.0.0.1:9", Timeouts(connect_s=0.3, read_s=0.3, retries=0, backoff_s=0))
    verdict = recovery.standby_healthy(probe.get("/health"))
    probe.close()
    assert verdict.status is Status.FAIL and "connection refused" in verdict.reason


def test_promtool_absent_is_an_error(healthy: release.Workspace, tmp_path: Path) -> None:
    with pytest.raises(ArtifactUnavailable, match="promtool"):
        promtool.run_rule_tests(healthy.project / "deploy/prometheus", promtool=str(tmp_path / "promtool"))
