"""Property tests of every reader on the one safe loader: mutated inputs never crash or PASS.

Hypothesis starts from valid inputs (the repository's own manifests, environment files,
release.yaml, a verdict file and an audit trail goldgate wrote) and mutates them at the byte
level (flipped, inserted, deleted bytes; truncation; a NUL; a non-UTF-8 byte) and at the
structure level (a node replaced by another type, a key repeated, nesting, aliases). Each
reader must answer without a traceback, within a generous per-example bound, and never with
a PASS (or a decision) on input that is not valid.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldgate import safeload
from goldgate.checks import manifests as check
from goldgate.checks.output import Finding
from goldgate.cli import main
from goldgate.config import EnvironmentFileError, load_environment
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.artifacts.manifest import read_manifest
from goldgate.release_schema import manifest_problems
from goldgate.report import audit
from goldgate.report.verdict_file import verdict_problems
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = (ROOT / "tests" / "manifests" / "fixtures" / "pass" / "deployment-guide.yaml").read_bytes()
ENVIRONMENT = (ROOT / "environments" / "staging.yaml").read_bytes()
RELEASE = (ROOT / "src" / "goldgate" / "sandbox" / "project" / "release.yaml").read_bytes()
VERDICT = json.dumps({"schema": "goldgate.verdict/1", "decision": "NO-GO", "decision_text": "NO-GO",
                      "environment": "staging", "version": "v1.2.0", "counts": {"failed": 1},
                      "reasons": ["t: FAIL: error rate — observed 0.03 vs threshold 0.01"],
                      "criteria": [{"status": "FAIL"}], "not_run": [], "waivers": [], "tests": []}).encode()
#: the bound per example: far above any honest input's time, far below a hang
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """Flip, insert or delete a few bytes, truncate, or plant a NUL or a non-UTF-8 byte."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "nul", "latin1"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "flip" and out:
            out[at] = draw(st.integers(0, 255))
        elif op == "insert":
            out[at:at] = draw(st.sampled_from([b":", b"- ", b"{", b"[", b"&a ", b"*a", b"\n  ", b"\t", b'"', b"{{ x }}"]))
        elif op == "delete":
            del out[at:at + draw(st.integers(1, 8))]
        elif op == "truncate":
            del out[at:]
        elif op == "nul":
            out[at:at] = b"\x00"
        else:
            out[at:at] = b"\xe9"
    return bytes(out)


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=12), st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def tree_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A node replaced by another type, nested 10,000 deep, or a key repeated; dumped back to YAML."""
    doc = yaml.safe_load(data)
    path = draw(st.sampled_from(_paths(doc)[1:]))
    *parents, last = path
    node = doc
    for part in parents:
        node = node[part]
    op = draw(st.sampled_from(["replace", "deep", "duplicate"]))
    if op == "replace":
        node[last] = draw(_VALUES)
        return yaml.safe_dump(doc, sort_keys=False).encode()
    if op == "deep":
        node[last] = "DEEP"
        return yaml.safe_dump(doc, sort_keys=False).encode().replace(b"DEEP", b"[" * 10_000 + b"]" * 10_000)
    text = yaml.safe_dump(doc, sort_keys=False)
    lines = text.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if ":" in line and not line.lstrip().startswith("-")]
    at = draw(st.sampled_from(keyed))
    return "".join([*lines[:at + 1], lines[at], *lines[at + 1:]]).encode()  # the same key twice


def inputs(data: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(byte_mutations(data), tree_mutations(data))


def _invalid(data: bytes, *, json_doc: bool = False) -> bool:
    try:
        (safeload.load_json if json_doc else safeload.load_yaml_all)(data, name="x")
    except safeload.LoadError:
        return True
    return False


# ----------------------------------------------------------------------------- manifests
def _findings(data: bytes) -> list[Finding]:
    args = argparse.Namespace(paths=["-"], env=None, environments=str(ROOT / "environments"))
    return check.run(args, io.BytesIO(data))


@SETTINGS
@given(data=inputs(MANIFEST))
def test_mutated_manifests_never_crash_nor_pass_when_unreadable(data: bytes) -> None:
    found = _findings(data)
    assert found
    if _invalid(data):
        assert any(f.status is Status.ERROR for f in found)
        assert not any(f.status is Status.PASS for f in found)


# ----------------------------------------------------------------------------- environment files
@SETTINGS
@given(data=inputs(ENVIRONMENT))
def test_mutated_environment_files_load_or_refuse_in_one_line(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("env")
    (folder / "staging.yaml").write_bytes(data)
    try:
        load_environment("staging", folder)
    except EnvironmentFileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(folder))
        return
    assert not _invalid(data), "the loader refuses what the environment accepted"


# ----------------------------------------------------------------------------- release.yaml
@SETTINGS
@given(data=inputs(RELEASE))
def test_mutated_release_yaml_is_read_or_unavailable(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("release") / "release.yaml"
    path.write_bytes(data)
    try:
        read_manifest(path)
        readable = True
    except ArtifactUnavailable as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        readable = False
    problems = manifest_problems(path)
    if _invalid(data):
        assert not readable and problems


# ----------------------------------------------------------------------------- verdict files
@SETTINGS
@given(data=st.one_of(byte_mutations(VERDICT), tree_mutations(VERDICT).map(
    lambda b: json.dumps(yaml.safe_load(b), default=str).encode() if not _invalid(b) else b)))
def test_mutated_verdict_files_give_a_decision_only_when_valid(data: bytes, tmp_path_factory: pytest.TempPathFactory,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path_factory.mktemp("verdict") / "verdict.json"
    path.write_bytes(data)
    code = main(["verdict", "--file", str(path)])
    out, err = capsys.readouterr()
    valid = not _invalid(data, json_doc=True) and not verdict_problems(safeload.load_json(data))
    if valid:
        assert code in (0, 1, 3) and out
    else:
        assert code == 2 and out == "" and len(err.splitlines()) == 1


# ----------------------------------------------------------------------------- audit logs
@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    for decision in ("GO", "NO-GO", "GO"):
        audit.append(path, audit.build_record(audit.RunFacts(
            environment="staging", production=False, version="v1.2.0", previous_version="v1.1.0",
            image="bot:v1.2.0", kube_context="staging", namespace="trading", deployment="bot", change="CHG-7",
            reason="weekly", decision=decision, reasons=[], exit_status=0, counts={"passed": 3}, actions=[],
            started_at="t0", finished_at="t1"), environ={}))
    return path.read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_mutated_audit_logs_are_named_tampered_in_two_lines(data: st.DataObject, trail: bytes,
                                                            tmp_path_factory: pytest.TempPathFactory,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    mutated = data.draw(byte_mutations(trail))
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    path.write_bytes(mutated)
    code = main(["audit", "verify", "--file", str(path)])
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert len(out.splitlines()) <= 2
    if mutated.rstrip(b"\n") != trail.rstrip(b"\n"):
        # a changed byte inside the chain is always caught; only a cut after the last intact
        # record can pass (the PostgreSQL copy catches that: `--postgres`)
        kept = b"".join(line + b"\n" for line in mutated.splitlines() if line)
        assert code == 1 or trail.startswith(kept)
