"""The inputs a new user hands goldgate, read as the tool that consumes them reads them.

One test per case of "Real-world inputs": manifests kubectl would refuse, Kubernetes'
defaults, requests declared only through limits, environment files that are not UTF-8 or
10,000 levels deep or 20 MB, a malformed verdict.json, a binary audit log. Each ends in one
line naming the file and the cause (or a verdict saying what it judged), never exit 0, a
PASS, a traceback or a hang.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from goldgate.checks.output import exit_code
from goldgate.cli import main
from goldgate.config import EnvironmentFileError, load_environment
from goldgate.criteria.spec_rules import judge_document
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.manifest import read_manifest
from goldgate.probes.readiness import read_readiness
from goldgate.release_schema import manifest_problems
from goldgate.report import audit
from goldgate.verdict import Status
from goldgate.workload_policy import Policy
from tests.loader.test_safeload import BOMB
from tests.manifests.helpers import FIXTURES, cli, findings

ROOT = Path(__file__).resolve().parents[2]
GOOD = (FIXTURES / "pass" / "deployment-guide.yaml").read_text()


def _errors(path: Path, document: int = 0) -> list[str]:
    """The ERROR findings of ``path``; no rule may PASS on ``document`` (the broken one) or after it."""
    found = findings(path)
    assert exit_code(found) != 0
    assert not any(f.status is Status.PASS and (f.document or 0) >= document for f in found), "a broken workload passed"
    return [f"{f.file}#{f.document} {f.field} {f.verdict.reason}" for f in found
            if f.status is Status.ERROR and f.verdict is not None]


# ----------------------------------------------------------------------------- manifests
def test_duplicate_replicas_key_is_an_error_not_the_last_value(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(GOOD.replace("  replicas: 3\n", "  replicas: 1\n  replicas: 3\n", 1))
    (line,) = _errors(path)
    assert f"{path}#0" in line and "spec.replicas" in line and "duplicate key 'replicas'" in line


def test_api_version_as_a_list_is_an_error_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(GOOD.replace("apiVersion: apps/v1", "apiVersion: [apps, v1]", 1))
    errors = _errors(path)
    assert any("apiVersion" in e and "expected a string, got a list" in e for e in errors), errors


@pytest.mark.parametrize(("api", "cause"), [("extensions/v1beta1", "not served under"), ("apps v1", "group/version")])
def test_api_version_the_api_server_does_not_serve(tmp_path: Path, api: str, cause: str) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(GOOD.replace("apiVersion: apps/v1", f"apiVersion: {api}", 1))
    assert any(cause in e for e in _errors(path))


def test_wrong_types_in_labels_and_strategy_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "types.yaml"
    path.write_text(GOOD.replace("type: RollingUpdate", "type: Rolling", 1)
                    .replace("      labels:\n        app: web", "      labels:\n        app: 1", 1))
    errors = "\n".join(_errors(path))
    assert "spec.strategy.type" in errors and "unsupported value 'Rolling'" in errors
    assert "(quote it)" in errors


def test_alias_bomb_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_bytes(GOOD.encode() + b"---\n" + BOMB)
    (line,) = _errors(path, document=1)
    assert f"{path}#1" in line and "alias bomb" in line


def test_unrendered_template_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "chart.yaml"
    path.write_text(GOOD.replace("example.org/web:2.4.1", '"example.org/web:{{ .Values.tag }}"', 1))
    assert any("unrendered template expression" in e and ".image" in e for e in _errors(path))


def test_yaml_links_that_cannot_be_opened_are_errors_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    (tmp_path / "dangling.yaml").symlink_to("gone.yaml")
    found = findings(tmp_path)
    causes = {Path(f.file).name: f.verdict.reason for f in found if f.status is Status.ERROR and f.verdict}
    assert causes == {"loop.yaml": "symbolic link loop: the link never reaches a file",
                      "dangling.yaml": "dangling symbolic link (to 'gone.yaml', which does not exist)"}
    done = cli(str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert cli(str(tmp_path / "loop.yaml")).returncode == 2  # named directly on the command line too


def _without(text: str, *blocks: str) -> str:
    for block in blocks:
        assert block in text
        text = text.replace(block, "")
    return text


def test_missing_replicas_and_strategy_are_judged_on_kubernetes_defaults(tmp_path: Path) -> None:
    path = tmp_path / "defaults.yaml"
    strategy = GOOD[GOOD.index("  strategy:"):GOOD.index("  template:")]
    path.write_text(_without(GOOD, "  replicas: 3\n", strategy))
    by_rule = {f.rule: f for f in findings(path) if f.verdict is not None}
    assert {"replicas", "rolling-update", "max-unavailable", "max-surge"} <= set(by_rule)
    replicas = by_rule["replicas"].verdict
    assert replicas.status is Status.FAIL and "replicas not set: Kubernetes runs 1" in replicas.reason
    assert "strategy not set: Kubernetes uses RollingUpdate" in by_rule["rolling-update"].verdict.reason
    assert "maxSurge not set: Kubernetes uses 25%" in by_rule["max-surge"].verdict.reason
    assert "maxUnavailable not set: Kubernetes uses 25%" in by_rule["max-unavailable"].verdict.reason


def test_limit_only_requests_fail_on_manifests_and_count_on_a_live_workload(tmp_path: Path) -> None:
    path = FIXTURES / "fail" / "limits-only.yaml"
    by_rule = {f.rule: f.verdict for f in findings(path) if f.verdict is not None}
    for rule in ("cpu-request", "memory-request"):
        assert by_rule[rule].status is Status.FAIL
        assert "not declared (the API server would default them to the limits" in by_rule[rule].reason
    import yaml

    served = yaml.safe_load(path.read_text())
    live = {r.rule: r.verdict for r in judge_document(served, Policy(), {"cpu-request", "memory-request"},
                                                      served=True)}
    assert {rule: v.status for rule, v in live.items()} == {"cpu-request": Status.PASS, "memory-request": Status.PASS}
    assert "effective: the API server defaulted it to the limit" in str(live["cpu-request"].observed)


# ----------------------------------------------------------------------------- environment files
ENV = "release:\n  version: v1.2.0\n"


@pytest.mark.parametrize(("body", "cause"), [
    (ENV.encode() + b"owner: caf\xe9\n", "line 3: not UTF-8: byte 0xe9 at offset 37"),
    (b"release: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n", "nested deeper than"),
    (b"release:\n  version: v1\n  version: v2\n", "duplicate key 'version' (line 2 and line 3)"),
    (b"a: " + BOMB.replace(b"\n", b"\n  ").replace(b"a: &a", b"\n  a: &a", 1), "alias"),
])
def test_environment_file_refused_in_one_line(tmp_path: Path, body: bytes, cause: str) -> None:
    (tmp_path / "t.yaml").write_bytes(body)
    with pytest.raises(EnvironmentFileError) as info:
        load_environment("t", tmp_path)
    assert cause in str(info.value) and "\n" not in str(info.value) and str(info.value).startswith(str(tmp_path))


def test_twenty_megabyte_environment_file_is_judged_at_once(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(ENV.encode() + b"notes:\n" + b"  - just a line of notes\n" * 800_000)
    assert path.stat().st_size > 19_000_000
    start = time.perf_counter()
    with pytest.raises(EnvironmentFileError, match="above the loader's limit"):
        load_environment("huge", tmp_path)
    assert time.perf_counter() - start < 5


def test_bad_environment_stops_the_run_with_exit_4(tmp_path: Path) -> None:
    """Through pytest once (the other refusals take the same path, tested in-process above)."""
    body = b"release: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"
    envdir = tmp_path / "envs"
    envdir.mkdir()
    (envdir / "bad.yaml").write_bytes(body)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "smoke"), "--rootdir", str(ROOT),
         "--verdict-file=", "--env=bad", f"--environments-dir={envdir}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "Traceback" not in output and "RecursionError" not in output and "UnicodeDecodeError" not in output
    assert str(envdir / "bad.yaml") in output


# ----------------------------------------------------------------------------- release.yaml
def test_release_yaml_with_a_duplicate_key_is_unavailable_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "release.yaml"
    path.write_text("version: v1.2.0\nchange_ticket: CHG-1\nchange_ticket: CHG-2\n")
    for read in (read_manifest, read_readiness):
        with pytest.raises(ArtifactUnavailable, match=r"duplicate key 'change_ticket' \(line 2 and line 3\)"):
            read(path)
    (problem,) = manifest_problems(path)
    assert "duplicate key 'change_ticket'" in problem


# ----------------------------------------------------------------------------- verdict files
@pytest.mark.parametrize("content", [
    b'{"decision": "GO", "reasons": 5}',
    b'{"decision": "GO", "waivers": [{"test": "t", "waiver": "yes"}]}',
    b'{"decision": "GO", "reasons": ["t: FAIL: error rate"]}',
    b'{"decision": "NO-GO",\n "decision": "GO"}',
    b'{"decision": "GO", "decision_text": "NO-GO"}',
    b'{"decision": "GO", "criteria": [{"status": "FAIL"}]}',
    b"\x89PNG\r\n\x1a\n\x00\x00",
    b'{"decision": "GO"',
])
def test_verdict_that_does_not_validate_prints_no_decision(tmp_path: Path, content: bytes,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "verdict.json"
    path.write_bytes(content)
    assert main(["verdict", "--file", str(path)]) == 2
    assert main(["verdict", "--json", "--file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0].startswith(f"goldgate verdict: {path}")
    assert not re.match(r"(GO|NO-GO|ROLLBACK)\b", lines[0].split(f"{path}: ", 1)[-1]), lines[0]
    assert lines[0].endswith("(no decision read; exit 2)")


# ----------------------------------------------------------------------------- audit logs
def test_binary_audit_log_is_summarised_in_one_line_and_the_first_problem(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(os.urandom(1 << 16).replace(b"\n", b"\n\xff"))
    assert main(["audit", "verify", "--file", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2, lines
    assert "TAMPERED" in lines[0] and "unreadable" in lines[0] and lines[1].startswith("  line 1: ")


def test_audit_verify_all_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"not json\n" * 5)
    assert main(["audit", "verify", "--all", "--file", str(path)]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_audit_log_that_is_a_symlink_loop_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    path.symlink_to(path.name)
    assert main(["audit", "verify", "--file", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"goldgate audit: {path}: symbolic link loop: the link never reaches a file"
    assert audit.read_records  # the readers share the loader


def test_verdict_file_written_by_the_suite_validates(tmp_path: Path) -> None:
    from goldgate.report.verdict_file import VerdictCollector, read_verdict_file, write_verdict_file

    path = tmp_path / "verdict.json"
    write_verdict_file(path, VerdictCollector(), {"environment": "local", "version": "v1"})
    assert read_verdict_file(path)["decision"] == "NO-GO"
    assert json.loads(path.read_text())["schema"]


@pytest.mark.parametrize(("make", "cause"), [
    (lambda p: p.symlink_to(p.name), "symbolic link loop"),
    (lambda p: p.symlink_to("gone.yaml"), "dangling symbolic link"),
    (lambda p: p.mkdir(), "is a directory"),
])
def test_environment_file_that_cannot_be_opened_is_named(tmp_path: Path, make: Any, cause: str) -> None:
    make(tmp_path / "t.yaml")
    with pytest.raises(EnvironmentFileError, match=cause):
        load_environment("t", tmp_path)
