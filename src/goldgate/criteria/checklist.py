"""Code readiness (guide §1.1) and release documentation (§10.2): pure decisions over what
the artifact probes read. Thresholds arrive as arguments, from the feature text.

Every reader hands over counts, and these criteria decide on counts: tests that ran,
lines measured, scanner runs that executed, requirements listed. Zero of them is never a
pass — a report in which nothing happened says INCONCLUSIVE, a scanner that failed to
run says ERROR.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from goldgate.criteria.registry import criterion
from goldgate.probes.artifacts.changelog import Changelog
from goldgate.probes.artifacts.coverage import CoverageSummary
from goldgate.probes.artifacts.junit import JUnitSummary
from goldgate.probes.artifacts.lockfile import LockFile
from goldgate.probes.artifacts.sarif import SEVERITIES, SarifReport
from goldgate.probes.artifacts.secrets import SecretFinding
from goldgate.verdict import Evidence, Verdict

SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _more(items: list[str], limit: int = 5) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


@criterion(needs="a JUnit report in which at least one test case ran (skipped cases are not run)")
def all_tests_passed(s: JUnitSummary) -> Verdict:
    crit = "all tests passed"
    ev = Evidence("junit", s.path, samples=s.ran,
                  details={"cases": s.tests, "passed": s.passed, "failures": s.failures, "errors": s.errors,
                           "skipped": s.skipped, "suites": s.suites})
    observed = f"{s.passed}/{s.ran} passed, {s.failures} failed, {s.errors} errors, {s.skipped} skipped"
    threshold = "100 % of the tests that ran pass, at least 1 ran"
    if s.ran <= 0:
        return Verdict.inconclusive(crit, f"{s.path}: no test ran ({s.tests} cases, {s.skipped} skipped)",
                                    observed=observed, threshold=threshold, evidence=ev)
    if s.failures or s.errors or s.passed < s.ran:
        return Verdict.failed(crit, observed, threshold, f"{s.path}: {_more(s.failed_cases)}", evidence=ev)
    return Verdict.passed(crit, observed, threshold,
                          f"{s.path}: {s.passed} passed" + (f", {s.skipped} skipped (not run)" if s.skipped else ""),
                          evidence=ev)


@criterion(needs="a coverage report with at least one measured line, and a finite limit between 0 and 100 %")
def coverage_above(s: CoverageSummary, limit_percent: float) -> Verdict:
    crit = f"code coverage above {limit_percent:g} %"
    weakest = [f"{f} {r * 100:.0f} %" for f, r in s.weakest_files]
    ev = Evidence(s.format, s.path, samples=s.lines_valid,
                  details={"lines_covered": s.lines_covered, "lines_valid": s.lines_valid,
                           "reported_rate": s.reported_rate, "weakest_files": weakest})
    if not isinstance(limit_percent, int | float) or not math.isfinite(limit_percent) or not 0 <= limit_percent <= 100:
        return Verdict.error(crit, f"coverage limit {limit_percent!r} is not a percentage between 0 and 100", evidence=ev)
    percent = s.percent
    if percent is None or s.lines_covered < 0 or s.lines_covered > s.lines_valid:
        return Verdict.inconclusive(crit, f"{s.path}: {s.lines_valid} lines valid, {s.lines_covered} covered: "
                                    "the report measured no code", observed=f"{s.lines_valid} lines valid",
                                    threshold=limit_percent, evidence=ev)
    percent = round(percent, 2)
    counts = f"{s.lines_covered}/{s.lines_valid} lines"
    if percent > limit_percent:
        return Verdict.passed(crit, percent, limit_percent, f"{percent:g} % ({counts}) > {limit_percent:g} %",
                              unit="%", evidence=ev)
    return Verdict.failed(crit, percent, limit_percent,
                          f"{s.path}: line coverage {percent:g} % ({counts}) is not above {limit_percent:g} %"
                          + (f" (weakest: {', '.join(weakest[:3])})" if weakest else ""), unit="%", evidence=ev)


@criterion(needs="at least one SARIF run that executed successfully, and a known severity")
def no_findings_at_or_above(reports: SarifReport | Sequence[SarifReport], lowest: str) -> Verdict:
    """FAIL on any finding of severity ``lowest`` or worse (e.g. 'high' = high + critical)."""
    reports = [reports] if isinstance(reports, SarifReport) else list(reports)
    lowest = str(lowest).lower()
    crit = f"security scan has no {lowest} or worse finding"
    source = ", ".join(r.path for r in reports) or "no SARIF report"
    findings = [f for r in reports for f in r.findings]
    counts = {sev: sum(1 for f in findings if f.severity == sev) for sev in SEVERITIES}
    runs = [(r.path, run) for r in reports for run in r.runs]
    executed = [(p, run) for p, run in runs if not run.problem]
    ev = Evidence("sarif", source, samples=len(executed),
                  details={"by_severity": counts, "runs": [f"{p}#{run.index} {run.tool}: {run.problem or 'executed'}"
                                                           for p, run in runs],
                           "suppressed": sum(r.suppressed for r in reports)})
    if lowest not in SEVERITIES:
        return Verdict.error(crit, f"unknown severity {lowest!r} (known: {', '.join(SEVERITIES)})", evidence=ev)
    blocked = set(SEVERITIES[: SEVERITIES.index(lowest) + 1])
    bad = [f for f in findings if f.severity in blocked]
    if bad:
        lines = [f"{f.severity.upper()} {f.rule} at {f.where()}: {f.message}" for f in bad]
        return Verdict.failed(crit, len(bad), 0, f"{source}: {_more(lines)}", evidence=ev)
    failed = [f"{p} run {run.index} ({run.tool}): {run.problem}" for p, run in runs if run.problem]
    if failed:
        return Verdict.error(crit, f"the scan did not execute: {_more(failed)}", threshold=0,
                             observed=f"{len(failed)} of {len(runs)} runs failed", evidence=ev)
    empty = [r.path for r in reports if not r.runs]
    if empty or not executed:
        return Verdict.inconclusive(crit, f"{', '.join(empty) or source}: \"runs\" is empty: no scan recorded",
                                    observed=f"{len(executed)} runs executed", threshold=0, evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{len(executed)} runs executed, {len(findings)} findings, none {lowest} or worse",
                          evidence=ev)


@criterion(needs="at least one source file scanned")
def no_hardcoded_secrets(findings: list[SecretFinding], root: str, files: int, baseline: str | None) -> Verdict:
    crit = "no hardcoded credentials"
    ev = Evidence("detect-secrets", root, samples=files, details={"baseline": baseline or "none"})
    if findings:
        lines = [f"{f.type} at {f.file}:{f.line}" for f in findings]
        return Verdict.failed(crit, len(findings), 0, f"new secrets not in the baseline: {_more(lines)}", evidence=ev)
    if not isinstance(files, int) or files <= 0:
        return Verdict.inconclusive(crit, f"{root}: no files to scan", evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{files} files scanned, nothing beyond the baseline", evidence=ev)


@criterion(needs="at least one lock file listing at least one dependency")
def dependencies_pinned(locks: LockFile | Sequence[LockFile]) -> Verdict:
    locks = [locks] if isinstance(locks, LockFile) else list(locks)
    crit = "every dependency pinned to an exact version"
    total = sum(len(lock.requirements) for lock in locks)
    source = ", ".join(lock.path for lock in locks) or "no lock file"
    ev = Evidence("lockfile", source, samples=total,
                  details={lock.path: f"{lock.format}, {len(lock.requirements)} dependencies" for lock in locks})
    bad = []
    for lock in locks:
        bad += [f"{lock.path}:{r.line} {r.text!r} is {r.problem or 'not pinned with =='}"
                for r in lock.requirements if not r.pinned]
        if lock.format == "requirements" and lock.uses_hashes:
            bad += [f"{lock.path}:{r.line} {r.text!r} has no --hash" for r in lock.requirements if not r.hashed]
    if bad:
        return Verdict.failed(crit, len(bad), 0, _more(bad), evidence=ev)
    empty = [lock.path for lock in locks if not lock.requirements]
    if not locks or empty:
        return Verdict.inconclusive(crit, f"{', '.join(empty) or source}: no dependencies listed", evidence=ev)
    return Verdict.passed(crit, total, "all pinned", f"{total} dependencies pinned in {source}", evidence=ev)


@criterion(needs="a CHANGELOG entry for a semantic version with every required section")
def changelog_entry(log: Changelog, version: str, sections: Iterable[str]) -> Verdict:
    crit = f"CHANGELOG entry for {version}"
    required = list(sections)
    ev = Evidence("changelog", log.path, samples=len(log.entries))
    if not SEMVER.match(version):
        return Verdict.failed(crit, version, "X.Y.Z", f"{version!r} is not a semantic version", evidence=ev)
    entry = log.entry(version)
    if entry is None:
        known = ", ".join(e.version for e in log.entries[:5]) or "none"
        return Verdict.failed(crit, "no entry", version, f"{log.path}: no '## [{version.removeprefix('v')}]' entry (entries: {known})", evidence=ev)
    if not SEMVER.match(entry.version):
        return Verdict.failed(crit, entry.version, "X.Y.Z", f"{log.path}:{entry.line}: not a semantic version", evidence=ev)
    if entry.date is not None and not ISO_DATE.match(entry.date):  # Keep a Changelog dates are ISO 8601
        return Verdict.failed(crit, entry.date, "YYYY-MM-DD", f"{log.path}:{entry.line}: release date {entry.date!r} "
                                                           "is not YYYY-MM-DD", evidence=ev)
    have = {name.lower(): items for name, items in entry.sections.items()}
    missing = [s for s in required if s.lower() not in have]
    empty = [s for s in required if s.lower() in have and not have[s.lower()]]
    if missing or empty:
        problems = [f"section '{s}' missing" for s in missing] + [f"section '{s}' is empty" for s in empty]
        return Verdict.failed(crit, sorted(entry.sections), required, f"{log.path}:{entry.line}: {'; '.join(problems)}", evidence=ev)
    return Verdict.passed(crit, sorted(entry.sections), required, f"{log.path}:{entry.line}: entry with every section", evidence=ev)


@criterion(needs="release notes text that mentions the version")
def release_notes(path: str, text: str | None, version: str) -> Verdict:
    crit = "release notes prepared"
    ev = Evidence("file", path)
    if text is None or not text.strip():
        return Verdict.failed(crit, "absent" if text is None else "empty", "present", f"{path}: no release notes",
                              evidence=ev)
    if not SEMVER.match(version):
        return Verdict.failed(crit, version, "X.Y.Z", f"{version!r} is not a semantic version", evidence=ev)
    if version.removeprefix("v") not in text:
        return Verdict.failed(crit, "other version", version, f"{path}: does not mention {version}", evidence=ev)
    return Verdict.passed(crit, f"{len(text.split())} words", version, f"{path} describes {version}", evidence=ev)
