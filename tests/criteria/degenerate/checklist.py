"""Degenerate inputs of the code-readiness (criteria/checklist.py) and infrastructure
(criteria/infrastructure.py) criteria: reports in which nothing ran, nothing was measured,
no scanner run executed, nothing was listed — and unusable limits."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from goldgate.probes.artifacts.changelog import Changelog
from goldgate.probes.artifacts.coverage import CoverageSummary
from goldgate.probes.artifacts.junit import JUnitSummary
from goldgate.probes.artifacts.lockfile import LockFile
from goldgate.probes.artifacts.sarif import SarifReport, SarifRun
from goldgate.probes.host import ListeningPorts
from goldgate.probes.promtool import AlertRulesReport
from goldgate.probes.tls import TlsObservation

NOT_A_LIMIT = st.sampled_from([float("nan"), float("inf"), float("-inf"), -1.0, 100.5])
COUNT = st.integers(0, 50)
T0 = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def _nothing_ran() -> st.SearchStrategy:
    # every case skipped (or none at all): 0 ran
    return COUNT.map(lambda n: ((JUnitSummary("junit.xml", n, 0, 0, n),), {}))


def _nothing_measured() -> st.SearchStrategy:
    zero_lines = st.tuples(st.floats(0, 100), st.sampled_from([None, 1.0, 0.0])).map(
        lambda a: ((CoverageSummary("coverage.xml", 0, 0, [], a[1]), a[0]), {}))
    impossible = st.tuples(COUNT, st.integers(1, 50)).map(
        lambda a: ((CoverageSummary("coverage.xml", a[0] + a[1], a[0]), 10.0), {}))
    bad_limit = st.tuples(st.integers(1, 100), NOT_A_LIMIT).map(
        lambda a: ((CoverageSummary("coverage.xml", a[0], a[0]), a[1]), {}))
    return st.one_of(zero_lines, impossible, bad_limit)


def _no_scan() -> st.SearchStrategy:
    no_runs = st.just(SarifReport("empty.sarif", [], []))
    failed_run = st.sampled_from(["invocations[0].executionSuccessful is false", "invocations[0] reports errors: x",
                                  "no results array (SARIF: results not computed)"]).map(
        lambda p: SarifReport("failed.sarif", [SarifRun(0, "Bandit", 0, p)], []))
    reports = st.lists(st.one_of(no_runs, failed_run), max_size=3)
    severity = st.sampled_from(["high", "critical", "medium"])
    unknown = st.sampled_from(["", "severe", "HIGHEST"]).map(
        lambda s: ((SarifReport("ok.sarif", [SarifRun(0, "Bandit", 0)], []), s), {}))
    return st.one_of(st.tuples(reports, severity).map(lambda a: (a, {})), unknown)


def _nothing_scanned() -> st.SearchStrategy:
    return st.tuples(st.just([]), st.just("src"), st.integers(-5, 0), st.sampled_from([None, ".secrets.baseline"])).map(
        lambda a: (a, {}))


def _nothing_listed() -> st.SearchStrategy:
    empty = st.lists(st.just(LockFile("requirements.lock", [])), max_size=3)
    return st.one_of(empty.map(lambda ls: ((ls,), {})), st.just(((LockFile("uv.lock", [], "uv.lock"),), {})))


def _no_changelog() -> st.SearchStrategy:
    version = st.sampled_from(["", "v1.2.0", "latest", "1.2"])
    return st.tuples(st.just(Changelog("CHANGELOG.md", [])), version, st.lists(st.sampled_from(["Features", "Fixes"]))).map(
        lambda a: (a, {}))


def _no_release_notes() -> st.SearchStrategy:
    return st.tuples(st.just("RELEASE_NOTES.md"), st.sampled_from([None, "", "  \n"]), st.sampled_from(["", "v1.2.0"])).map(
        lambda a: (a, {})) | st.tuples(st.just("RELEASE_NOTES.md"), st.text(max_size=20), st.just("")).map(lambda a: (a, {}))


def _tls_bad_limit() -> st.SearchStrategy:
    obs = TlsObservation("bot:443", "bot", True, "", T0 + dt.timedelta(days=90), "CN=bot", "CN=ca", "TLSv1.3")
    return st.sampled_from([float("nan"), float("inf"), float("-inf")]).map(lambda d: ((obs, T0, d), {}))


def _no_alerts() -> st.SearchStrategy:
    return st.booleans().map(lambda ok: ((AlertRulesReport("deploy/prometheus", {}, set(), [], ok, "",
                                                           [], ["rules.yml"]),), {}))


CASES = {
    "checklist.all_tests_passed": _nothing_ran(),
    "checklist.coverage_above": _nothing_measured(),
    "checklist.no_findings_at_or_above": _no_scan(),
    "checklist.no_hardcoded_secrets": _nothing_scanned(),
    "checklist.dependencies_pinned": _nothing_listed(),
    "checklist.changelog_entry": _no_changelog(),
    "checklist.release_notes": _no_release_notes(),
    "infrastructure.services_available": st.just((([], "trading", "https://127.0.0.1:6443"), {})),
    "infrastructure.network_policy_selects": st.dictionaries(st.sampled_from(["app", "tier"]), st.text(max_size=5)).map(
        lambda labels: (([], labels, "trading"), {})),
    "infrastructure.only_allowed_ports": st.lists(st.integers(1, 65535), max_size=5).map(
        lambda allowed: ((ListeningPorts("local://", {}), allowed), {})),
    "infrastructure.tls_valid": _tls_bad_limit(),
    "infrastructure.targets_up": st.just((([], "http://127.0.0.1:9090", {"app": "trading-bot"}), {})),
    "infrastructure.alert_rules_tested": _no_alerts(),
}

