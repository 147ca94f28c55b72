"""Code readiness (guide §1.1) and release documentation (§10.2): pure decisions over what
the artifact probes read. Thresholds arrive as arguments, from the feature text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from goldgate.probes.artifacts.changelog import Changelog
from goldgate.probes.artifacts.coverage import CoverageSummary
from goldgate.probes.artifacts.junit import JUnitSummary
from goldgate.probes.artifacts.lockfile import LockFile
from goldgate.probes.artifacts.sarif import SEVERITIES, Finding
from goldgate.probes.artifacts.secrets import SecretFinding
from goldgate.verdict import Evidence, Verdict

SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def _more(items: list[str], limit: int = 5) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def all_tests_passed(s: JUnitSummary) -> Verdict:
    crit = "all tests passed"
    ev = Evidence("junit", s.path, samples=s.tests, details={"failures": s.failures, "errors": s.errors, "skipped": s.skipped})
    observed = f"{s.tests} tests, {s.failures} failures, {s.errors} errors"
    threshold = "tests > 0, failures = 0, errors = 0"
    if s.tests == 0:
        return Verdict.failed(crit, observed, threshold, f"{s.path}: the report holds no test cases", evidence=ev)
    if s.failures or s.errors:
        return Verdict.failed(crit, observed, threshold, f"{s.path}: {_more(s.failed_cases)}", evidence=ev)
    return Verdict.passed(crit, observed, threshold, f"{s.path}: {s.tests - s.skipped} passed", evidence=ev)


def coverage_above(s: CoverageSummary, limit_percent: float) -> Verdict:
    crit = "code coverage"
    percent = round(s.line_rate * 100, 2)
    ev = Evidence("cobertura", s.path, samples=s.lines_valid,
                  details={"lines_covered": s.lines_covered, "lines_valid": s.lines_valid,
                           "weakest_files": [f"{f} {r * 100:.0f} %" for f, r in s.weakest_files]})
    if percent > limit_percent:
        return Verdict.passed(crit, percent, limit_percent, f"{percent:g} % > {limit_percent:g} %", unit="%", evidence=ev)
    weakest = ", ".join(f"{f} {r * 100:.0f} %" for f, r in s.weakest_files[:3])
    return Verdict.failed(crit, percent, limit_percent,
                          f"{s.path}: line coverage {percent:g} % is not above {limit_percent:g} % (weakest: {weakest})",
                          unit="%", evidence=ev)


def no_findings_at_or_above(findings: list[Finding], lowest: str, source: str) -> Verdict:
    """FAIL on any finding of severity ``lowest`` or worse (e.g. 'high' = high + critical)."""
    crit = f"security scan has no {lowest} or worse finding"
    blocked = set(SEVERITIES[: SEVERITIES.index(lowest) + 1])
    bad = [f for f in findings if f.severity in blocked]
    counts = {sev: sum(1 for f in findings if f.severity == sev) for sev in SEVERITIES}
    ev = Evidence("sarif", source, samples=len(findings), details={"by_severity": counts})
    if bad:
        lines = [f"{f.severity.upper()} {f.rule} at {f.where()}: {f.message}" for f in bad]
        return Verdict.failed(crit, len(bad), 0, f"{source}: {_more(lines)}", evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{len(findings)} findings, none {lowest} or worse", evidence=ev)


def no_hardcoded_secrets(findings: list[SecretFinding], root: str, files: int, baseline: str | None) -> Verdict:
    crit = "no hardcoded credentials"
    ev = Evidence("detect-secrets", root, samples=files, details={"baseline": baseline or "none"})
    if files == 0:
        return Verdict.inconclusive(crit, f"{root}: no files to scan", evidence=ev)
    if findings:
        lines = [f"{f.type} at {f.file}:{f.line}" for f in findings]
        return Verdict.failed(crit, len(findings), 0, f"new secrets not in the baseline: {_more(lines)}", evidence=ev)
    return Verdict.passed(crit, 0, 0, f"{files} files scanned, nothing beyond the baseline", evidence=ev)


def dependencies_pinned(lock: LockFile) -> Verdict:
    crit = "every dependency pinned to an exact version"
    ev = Evidence("lockfile", lock.path, samples=len(lock.requirements))
    if not lock.requirements:
        return Verdict.inconclusive(crit, f"{lock.path}: no requirements listed", evidence=ev)
    bad = [f"{lock.path}:{r.line} {r.text!r} is not pinned with ==" for r in lock.requirements if not r.pinned]
    if lock.uses_hashes:
        bad += [f"{lock.path}:{r.line} {r.text!r} has no --hash" for r in lock.requirements if not r.hashed]
    if bad:
        return Verdict.failed(crit, len(bad), 0, _more(bad), evidence=ev)
    return Verdict.passed(crit, len(lock.requirements), "all pinned", f"{len(lock.requirements)} requirements pinned", evidence=ev)


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
    have = {name.lower(): items for name, items in entry.sections.items()}
    missing = [s for s in required if s.lower() not in have]
    empty = [s for s in required if s.lower() in have and not have[s.lower()]]
    if missing or empty:
        problems = [f"section '{s}' missing" for s in missing] + [f"section '{s}' is empty" for s in empty]
        return Verdict.failed(crit, sorted(entry.sections), required, f"{log.path}:{entry.line}: {'; '.join(problems)}", evidence=ev)
    return Verdict.passed(crit, sorted(entry.sections), required, f"{log.path}:{entry.line}: entry with every section", evidence=ev)


def release_notes(path: str, text: str | None, version: str) -> Verdict:
    crit = "release notes prepared"
    ev = Evidence("file", path)
    if text is None:
        return Verdict.failed(crit, "absent", "present", f"{path}: no release notes", evidence=ev)
    if version.removeprefix("v") not in text:
        return Verdict.failed(crit, "other version", version, f"{path}: does not mention {version}", evidence=ev)
    return Verdict.passed(crit, f"{len(text.split())} words", version, f"{path} describes {version}", evidence=ev)
