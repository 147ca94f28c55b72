"""CI artifacts judged by the guide's §1.1 rules: JUnit, coverage, SARIF and lock files.

``goldgate check artifacts PATH…`` recognises each file by its content (the XML root, the
JSON shape) or, for lock files, by its name, and judges it with the same criteria the
gate stage uses. A folder stands for the artifacts found under it. A file that is not
what it claims to be (truncated XML, a JSON that is neither SARIF nor coverage.py's,
non-UTF-8 text) is an ERROR finding naming the file; a path that does not exist stops
the command.

Examples::

    goldgate check artifacts reports/junit.xml reports/coverage.xml bandit.sarif requirements.txt
    goldgate check artifacts ci-artifacts/ --min-coverage 90 --fail-on medium --format sarif
"""

from __future__ import annotations

import argparse
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldgate.checks.output import CheckInputError, Finding
from goldgate.criteria import checklist as code
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes.artifacts import (
    ArtifactUnavailable,
    coverage,
    junit,
    lockfile,
    require_file,
    sarif,
)
from goldgate.verdict import Verdict

#: guide §1.1 "Code coverage >85%"
GUIDE_MIN_COVERAGE = 85.0
#: guide §1.1 "Security scan passed (no critical issues)", held at high as the gate feature does
DEFAULT_FAIL_ON = "high"
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}
_CANDIDATE_SUFFIXES = (".xml", ".json", ".sarif")

RULES = {
    "junit": "junit.all-tests-passed",
    "cobertura": "coverage.line-coverage",
    "coverage-json": "coverage.line-coverage",
    "sarif": "sarif.no-findings-at-or-above",
    "lockfile": "lockfile.dependencies-pinned",
    "unknown": "artifact.recognised",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="JUnit XML, Cobertura XML, coverage.py JSON, SARIF or lock file; a folder for all of them")
    parser.add_argument("--min-coverage", type=float, default=GUIDE_MIN_COVERAGE, metavar="PERCENT",
                        help=f"line coverage must be above this (default {GUIDE_MIN_COVERAGE:g}, guide §1.1)")
    parser.add_argument("--fail-on", choices=sarif.SEVERITIES, default=DEFAULT_FAIL_ON,
                        help=f"lowest SARIF severity that fails (default {DEFAULT_FAIL_ON}: high and critical)")


def _sniff(path: Path) -> str:
    """The artifact kind of ``path``; raises :class:`ArtifactUnavailable` when it is none of them."""
    if lockfile.is_lock_file_name(path.name) or path.suffix == ".lock":
        return "lockfile"
    require_file(path, "artifact")
    try:
        head = path.read_bytes()[:4096].lstrip()
    except OSError as exc:
        raise ArtifactUnavailable(path, f"cannot read: {exc}") from None
    if head.startswith(b"<"):
        try:
            _event, root = next(ET.iterparse(path, events=("start",)))  # noqa: S314 - root tag only
        except (ET.ParseError, StopIteration, LookupError) as exc:  # LookupError: an encoding Python lacks
            raise ArtifactUnavailable(path, f"not valid XML: {exc}") from None
        tag = root.tag.rsplit("}", 1)[-1]
        if tag in ("testsuites", "testsuite"):
            return "junit"
        if tag == "coverage":
            return "cobertura"
        raise ArtifactUnavailable(path, f"XML root <{tag}> is neither JUnit (<testsuites>/<testsuite>) "
                                        "nor Cobertura (<coverage>)")
    if head.startswith((b"{", b"[")):
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ArtifactUnavailable(path, f"not UTF-8 text: {exc}") from None
        except ValueError as exc:
            raise ArtifactUnavailable(path, f"not valid JSON: {exc}") from None
        if sarif.is_sarif(doc):
            return "sarif"
        if coverage.is_coverage_json(doc):
            return "coverage-json"
        raise ArtifactUnavailable(path, "JSON that is neither SARIF (\"runs\": [...]) nor a coverage.py report "
                                        "(\"meta\" and \"files\")")
    raise ArtifactUnavailable(path, "neither XML nor JSON nor a known lock file name")


def _judges(args: argparse.Namespace) -> dict[str, tuple[str, Callable[[Path], Any], Callable[[Any], Verdict]]]:
    """kind → (criterion label, reader, criterion)."""
    cov = f"code coverage above {args.min_coverage:g} %"
    return {
        "junit": ("all tests passed", junit.read_junit, code.all_tests_passed),
        "cobertura": (cov, coverage.read_cobertura, lambda s: code.coverage_above(s, args.min_coverage)),
        "coverage-json": (cov, coverage.read_coverage_json, lambda s: code.coverage_above(s, args.min_coverage)),
        "sarif": (f"security scan has no {args.fail_on} or worse finding", sarif.read_sarif,
                  lambda r: code.no_findings_at_or_above(r, args.fail_on)),
        "lockfile": ("every dependency pinned to an exact version", lockfile.read_lock_file, code.dependencies_pinned),
    }


def _expand(paths: list[str]) -> list[tuple[Path, bool]]:
    """``(file, named explicitly)`` for every argument; a folder gives the artifacts under it."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise CheckInputError(f"{raw}: no such file or folder")
        if path.is_file():
            out.append((path, True))
            continue
        found = []
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(_CANDIDATE_SUFFIXES) or lockfile.is_lock_file_name(name):
                    found.append((Path(folder) / name, False))
        if not found:
            raise CheckInputError(f"{raw}: no JUnit, coverage, SARIF or lock file in this folder")
        out += found
    return out


def run(args: argparse.Namespace) -> list[Finding]:
    judges = _judges(args)
    findings: list[Finding] = []
    for path, explicit in _expand(list(args.paths)):
        try:
            kind = _sniff(path)
        except ArtifactUnavailable as exc:
            if not explicit:
                continue  # a folder's unrelated JSON/XML (package.json, pom.xml) is not an artifact
            kind, failure = "unknown", exc
        if kind == "unknown":
            def unrecognised(e: ArtifactUnavailable = failure) -> Any:
                raise e

            verdict = measure_and_judge("artifact recognised", unrecognised, lambda _: None, (ArtifactUnavailable,))
        else:
            label, reader, judge = judges[kind]
            verdict = measure_and_judge(label, lambda p=path, r=reader: r(p), judge, (ArtifactUnavailable,))
        findings.append(Finding(str(path), RULES[kind], verdict, kind=kind))
    return findings
