"""JUnit XML test reports (pytest ``--junitxml``, surefire, go-junit-report...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable, parse_xml


@dataclass(frozen=True)
class JUnitSummary:
    path: str
    tests: int
    failures: int
    errors: int
    skipped: int
    failed_cases: list[str] = field(default_factory=list)


def read_junit(path: Path) -> JUnitSummary:
    """Totals over every ``testcase`` (suite attributes are not trusted: counted, not read)."""
    root = parse_xml(path, "JUnit report", "JUnit")
    if root.tag not in ("testsuites", "testsuite"):
        raise ArtifactUnavailable(path, f"not a JUnit report (root element <{root.tag}>)")
    tests = failures = errors = skipped = 0
    failed: list[str] = []
    for case in root.iter("testcase"):
        tests += 1
        name = "::".join(p for p in (case.get("classname", ""), case.get("name", "")) if p)
        where = f" ({case.get('file')}:{case.get('line')})" if case.get("file") else ""
        for tag, kind in (("failure", "failed"), ("error", "error")):
            node = case.find(tag)
            if node is not None:
                if tag == "failure":
                    failures += 1
                else:
                    errors += 1
                msg = (node.get("message") or "").splitlines()[0:1]
                failed.append(f"{name}{where} {kind}{': ' + msg[0][:160] if msg else ''}")
        if case.find("skipped") is not None:
            skipped += 1
    return JUnitSummary(str(path), tests, failures, errors, skipped, failed)
