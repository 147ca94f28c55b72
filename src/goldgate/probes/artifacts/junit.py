"""JUnit XML test reports (pytest ``--junitxml``, surefire, go-junit-report, jest-junit...).

Read with junitparser and judged by counting test cases, never by the ``tests=`` /
``failures=`` attributes a suite element claims: those are summaries some tools leave
stale or omit, and a report whose every case was skipped must read "0 ran", not
"0 failed". Both roots are accepted (``<testsuites>`` and a bare ``<testsuite>``), with
any number of suites, nested suites included.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Skipped, TestCase

from goldgate.probes.artifacts import ArtifactUnavailable, require_file


@dataclass(frozen=True)
class JUnitSummary:
    """What a JUnit report counted: every test case lands in exactly one bucket."""

    path: str
    tests: int  # test cases in the report, skipped ones included
    failures: int
    errors: int
    skipped: int  # not run: never a pass
    failed_cases: list[str] = field(default_factory=list)
    suites: int = 0

    @property
    def ran(self) -> int:
        return self.tests - self.skipped

    @property
    def passed(self) -> int:
        return self.tests - self.skipped - self.failures - self.errors


def _outcome(case: TestCase) -> tuple[str, str]:
    """``(bucket, first line of the message)``; an error outranks a failure, both a skip."""
    results = case.result
    for kind, bucket in ((Error, "error"), (Failure, "failed"), (Skipped, "skipped")):
        hit = next((r for r in results if isinstance(r, kind)), None)
        if hit is not None:
            text = (hit.message or hit.text or "").strip().splitlines()
            return bucket, text[0][:160] if text else ""
    return "passed", ""


def read_junit(path: Path) -> JUnitSummary:
    require_file(path, "JUnit report")
    try:
        report = JUnitXml.fromfile(str(path))
    except (ET.ParseError, UnicodeDecodeError, ValueError, LookupError) as exc:  # LookupError: unknown encoding
        raise ArtifactUnavailable(path, f"not valid JUnit XML: {exc}") from None
    except JUnitXmlError:
        raise ArtifactUnavailable(path, "not a JUnit report (root element is neither <testsuites> nor <testsuite>)") from None
    except OSError as exc:
        raise ArtifactUnavailable(path, f"cannot read JUnit report: {exc}") from None
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    failed: list[str] = []
    groups = [list(suite) for suite in report]
    suites = len(groups)
    # cases a tool put straight under <testsuites>, outside any suite, count too (junitparser skips them)
    groups.append([TestCase.fromelem(e) for e in report._elem.findall("testcase")])
    for cases in groups:
        for case in cases:
            bucket, message = _outcome(case)
            counts[bucket] += 1
            if bucket in ("failed", "error"):
                elem = case._elem  # file/line are pytest extras junitparser does not model
                name = "::".join(p for p in (case.classname or "", case.name or "") if p)
                where = f" ({elem.get('file')}:{elem.get('line')})" if elem.get("file") else ""
                failed.append(f"{name}{where} {bucket}{': ' + message if message else ''}")
    tests = sum(counts.values())
    return JUnitSummary(str(path), tests, counts["failed"], counts["error"], counts["skipped"], failed, suites)
