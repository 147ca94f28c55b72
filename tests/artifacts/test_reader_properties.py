"""Property tests of the CI-artifact readers, on what the real tools write in the test.

pytest's JUnit, coverage.py's Cobertura XML and JSON, bandit's SARIF, pip-compile's hashed
requirements, a poetry.lock and a uv.lock, a Keep a Changelog CHANGELOG: each is first
judged PASS as written, then hypothesis mutates it — bytes flipped, inserted, deleted,
the file cut short, bytes that are not UTF-8, a structure broken on purpose — and every
mutant must be judged without a traceback and without hanging, and a mutant that is
invalid by construction must never PASS.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldgate.checks import artifacts as check_artifacts
from goldgate.criteria import checklist as code
from goldgate.probes.artifacts import ArtifactUnavailable, changelog
from goldgate.verdict import Status
from tests.artifacts.test_lockfile import POETRY_LOCK, UV_LOCK, compiled  # noqa: F401 - pip-compile's output
from tests.artifacts.test_sarif import CLEAN, bandit
from tests.artifacts.tools import PASSING, coverage_reports, pytest_junit, tiny_project, write

#: a stuck reader shows up as a hang, never as a slow pass: anything past this is a defect
HANG_S = 20.0
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

KEEP_A_CHANGELOG = """\
# Changelog

All notable changes to this project will be documented in this file.

## [Unreleased]

## [1.2.0] - 2026-11-10
### Added
- client order ids make paper orders idempotent
### Changed
- the signal endpoint answers within 50 ms
### Fixed
- reconnect to the price feed after a dropped socket

## [1.1.0] - 2026-10-01
### Added
- paper trading of XAUUSD
"""
CHANGELOG_SECTIONS = ("Added", "Changed", "Fixed")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    check_artifacts.add_arguments(parser)
    return parser


def judge_artifact(path: Path) -> Status:
    """``goldgate check artifacts PATH --min-coverage 50`` in this process: the one finding's status."""
    findings = check_artifacts.run(_parser().parse_args([str(path), "--min-coverage", "50"]))
    assert len(findings) == 1 and findings[0].verdict is not None, findings
    return findings[0].verdict.status


def judge_changelog(path: Path) -> Status:
    try:
        log = changelog.read_changelog(path)
    except ArtifactUnavailable:
        return Status.ERROR
    return code.changelog_entry(log, "1.2.0", CHANGELOG_SECTIONS).status


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory, compiled: Path) -> dict[str, tuple[str, bytes]]:  # noqa: F811
    """kind -> (file name, bytes) as the real tools wrote them."""
    root = tmp_path_factory.mktemp("tools")
    project = tiny_project(root, PASSING)
    out = root / "out"
    out.mkdir()
    junit = pytest_junit(project, out / "junit.xml")
    xml, js = coverage_reports(project, out)
    sarif = bandit(write(root / "scanned", CLEAN), "app", out / "bandit.sarif")
    return {
        "junit": ("junit.xml", junit.read_bytes()),
        "cobertura": ("coverage.xml", xml.read_bytes()),
        "coverage-json": ("coverage.json", js.read_bytes()),
        "sarif": ("bandit.sarif", sarif.read_bytes()),
        "requirements": ("requirements.txt", compiled.read_bytes()),
        "poetry": ("poetry.lock", POETRY_LOCK.encode()),
        "uv": ("uv.lock", UV_LOCK.encode()),
        "changelog": ("CHANGELOG.md", KEEP_A_CHANGELOG.encode()),
    }


KINDS = ["junit", "cobertura", "coverage-json", "sarif", "requirements", "poetry", "uv", "changelog"]


def _judge(kind: str) -> Callable[[Path], Status]:
    return judge_changelog if kind == "changelog" else judge_artifact


def _judged(tmp_path: Path, kind: str, name: str, data: bytes) -> Status:
    folder = tmp_path / f"m{time.monotonic_ns()}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    started = time.monotonic()
    status = _judge(kind)(path)  # any exception other than a verdict is the defect this test hunts
    assert time.monotonic() - started < HANG_S, f"{kind}: judging one mutant took {time.monotonic() - started:.1f} s"
    return status


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """Up to four edits: a byte replaced, bytes inserted, a span deleted, or the tail cut."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        edit = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if edit == "replace":
            out[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del out[at:at + draw(st.integers(1, 16))]
        else:
            del out[at:]
    return bytes(out)


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_tools_wrote_passes(originals: dict[str, tuple[str, bytes]], tmp_path: Path, kind: str) -> None:
    name, data = originals[kind]
    assert _judged(tmp_path, kind, name, data) is Status.PASS


@pytest.mark.parametrize("kind", KINDS)
def test_any_mutation_is_judged_without_a_traceback(originals: dict[str, tuple[str, bytes]], tmp_path: Path,
                                                    kind: str) -> None:
    name, data = originals[kind]

    @SETTINGS
    @given(byte_mutations(data))
    def judged(mutant: bytes) -> None:
        assert _judged(tmp_path, kind, name, mutant) in set(Status)

    judged()


@pytest.mark.parametrize("kind", KINDS)
def test_bytes_that_are_not_utf8_never_pass(originals: dict[str, tuple[str, bytes]], tmp_path: Path,
                                            kind: str) -> None:
    name, data = originals[kind]

    @SETTINGS
    @given(st.integers(0, len(data)), st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"]))
    def judged(at: int, bad: bytes) -> None:
        assert _judged(tmp_path, kind, name, data[:at] + bad + data[at:]) is not Status.PASS

    judged()


def _last_char(data: bytes) -> int:
    return len(data.rstrip())


@pytest.mark.parametrize("kind", ["junit", "cobertura", "coverage-json", "sarif"])
def test_a_document_cut_short_never_passes(originals: dict[str, tuple[str, bytes]], tmp_path: Path,
                                           kind: str) -> None:
    """XML without its root's closing tag, JSON without its closing brace: not a document at all."""
    name, data = originals[kind]

    @SETTINGS
    @given(st.integers(1, _last_char(data) - 1))
    def judged(cut: int) -> None:
        assert _judged(tmp_path, kind, name, data[:cut]) is not Status.PASS

    judged()


BROKEN_STRUCTURE: dict[str, list[Callable[[bytes], bytes]]] = {
    # a key twice in one table is not TOML
    "poetry": [lambda d: d.replace(b'version = "', b'version = "0"\nversion = "', 1)],
    "uv": [lambda d: d.replace(b'version = "', b'version = "0"\nversion = "', 1)],
    # an exact pin loosened by hand: the lock no longer pins
    "requirements": [lambda d: d.replace(b"==", b">=", 1), lambda d: d.replace(b"==", b"~=", 1)],
    # the release's own entry gone, or one of its required sections
    "changelog": [lambda d: d.replace(b"## [1.2.0]", b"## 1.2.0 draft"),
                  lambda d: d.replace(b"### Fixed\n", b""),
                  lambda d: d.replace(b"## [1.2.0] - 2026-11-10", b"## [1.2.0] - yesterday")],
    # a test case that failed, or no test case at all (the cases are the evidence, not the counters)
    "junit": [lambda d: re.sub(rb'(<testcase [^>]*?)\s*/>', rb'\1><failure message="boom" /></testcase>', d, count=1),
              lambda d: re.sub(rb'<testcase [^>]*?/>', b"", d)],
}


@pytest.mark.parametrize(("kind", "mutation"), [(k, i) for k, ms in BROKEN_STRUCTURE.items() for i in range(len(ms))])
def test_structure_broken_on_purpose_never_passes(originals: dict[str, tuple[str, bytes]], tmp_path: Path,
                                                  kind: str, mutation: int) -> None:
    name, data = originals[kind]
    mutant = BROKEN_STRUCTURE[kind][mutation](data)
    assert mutant != data, f"{kind}: mutation {mutation} changed nothing (the tool's output changed shape?)"
    assert _judged(tmp_path, kind, name, mutant) is not Status.PASS


def test_empty_files_never_pass(originals: dict[str, tuple[str, bytes]], tmp_path: Path) -> None:
    for kind in KINDS:
        name, _ = originals[kind]
        assert _judged(tmp_path, kind, name, b"") is not Status.PASS, kind
