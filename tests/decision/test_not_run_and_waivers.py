"""A check that did not run is not a pass; waivers make that visible, never silent.

Real pytest runs (pytester) of synthetic goldgate projects: the decision in
reports/verdict.json, the JUnit skip message, the terminal summary and the audit record.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from tests.report.conftest import LOCAL_ENV, read_json

Project = Callable[..., pytest.Pytester]

SKIPPED = '''
    import pytest

    def test_standby_region_is_healthy():
        pytest.skip("http.standby_url is not set")
'''
NO_VERDICT = '''
    def test_checks_nothing():
        assert True
'''
FAILING_WAIVED = '''
    from goldgate.verdict import Verdict, expect

    def test_standby_region_is_healthy():
        expect(Verdict.failed("standby healthy", 503, 200, "standby answered 503"))
'''


def _waiver(check: str, expiry: dt.date) -> str:
    return textwrap.dedent(f"""\
        waivers:
          - check: {check}
            reason: no second region in this environment
            approver: jane.doe
            expiry: {expiry.isoformat()}
        """)


def _with(p: pytest.Pytester, **files: str) -> pytest.Pytester:
    if files:
        p.makepyfile(**{name: textwrap.dedent(body) for name, body in files.items()})
    return p


FUTURE = dt.date.today() + dt.timedelta(days=30)


def test_a_skipped_check_is_not_run_and_no_go(gg_project: Project) -> None:
    p = _with(gg_project("passing"), test_standby=SKIPPED)
    result = p.runpytest()
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    [entry] = doc["not_run"]
    assert entry["test"] == "test_standby.py::test_standby_region_is_healthy"
    assert "http.standby_url is not set" in entry["reason"]
    assert "waiver" not in entry and doc["waivers"] == []
    assert any("NOT RUN" in r and "standby_url" in r for r in doc["reasons"])
    result.stdout.fnmatch_lines(["decision: NO-GO*"])


def test_a_waived_check_that_did_not_run_is_go_with_the_waiver_shown(gg_project: Project) -> None:
    p = _with(gg_project("passing", env=LOCAL_ENV + _waiver("test_standby_region_is_healthy", FUTURE)),
              test_standby=SKIPPED)
    result = p.runpytest()
    assert result.ret == 0
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "GO"
    assert doc["decision_text"] == "GO with 1 waiver"
    [entry] = doc["not_run"]
    assert entry["waiver"] == {"check": "test_standby_region_is_healthy", "reason": "no second region in this environment",
                               "approver": "jane.doe", "expiry": FUTURE.isoformat()}
    assert doc["waivers"] == [entry]
    result.stdout.fnmatch_lines(["decision: GO with 1 waiver*", "*waived (did not run)*jane.doe*"])
    skipped = ET.parse(p.path / "reports" / "junit.xml").getroot().find(".//skipped")  # noqa: S314 - written by this run
    assert skipped is not None and "WAIVED by jane.doe" in skipped.get("message", "")
    [record] = [json.loads(line) for line in (p.path / "reports" / "audit.jsonl").read_text().splitlines()]
    assert record["status"]["waivers"][0]["waiver"]["approver"] == "jane.doe"


def test_a_waived_check_that_runs_and_fails_still_fails(gg_project: Project) -> None:
    p = _with(gg_project("passing", env=LOCAL_ENV + _waiver("test_standby_region_is_healthy", FUTURE)),
              test_standby=FAILING_WAIVED)
    assert p.runpytest().ret == 1
    assert read_json(p.path / "reports" / "verdict.json")["decision"] == "NO-GO"


def test_an_expired_waiver_stops_the_run_naming_the_entry(gg_project: Project) -> None:
    past = dt.date.today() - dt.timedelta(days=1)
    p = _with(gg_project("passing", env=LOCAL_ENV + _waiver("test_standby_region_is_healthy", past)),
              test_standby=SKIPPED)
    result = p.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*waivers.0 ('test_standby_region_is_healthy', approved by jane.doe): expired on {past}*"])
    assert "Traceback" not in result.stderr.str()
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO" and doc["refused"] is True


def test_a_waiver_naming_no_check_stops_the_run(gg_project: Project) -> None:
    p = gg_project("passing", env=LOCAL_ENV + _waiver("test_that_does_not_exist", FUTURE))
    result = p.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*waivers.0 ('test_that_does_not_exist'): names no check of this suite*"])


@pytest.mark.parametrize("field,value", [("approver", '""'), ("reason", '""'), ("expiry", "someday")])
def test_a_waiver_needs_reason_approver_and_expiry(gg_project: Project, field: str, value: str) -> None:
    fields = {"check": "test_standby_region_is_healthy", "reason": "no second region", "approver": "jane.doe",
              "expiry": FUTURE.isoformat(), field: value}
    body = "waivers:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"
    p = _with(gg_project("passing", env=LOCAL_ENV + body), test_standby=SKIPPED)
    result = p.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*waivers.0.{field}*"])


def test_a_check_that_ends_without_a_verdict_is_a_suite_defect(gg_project: Project) -> None:
    p = _with(gg_project("passing"), test_nothing=NO_VERDICT)
    result = p.runpytest()
    assert result.ret == 1
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "NO-GO"
    assert any("suite defect" in r and "test_checks_nothing" in r for r in doc["reasons"])
    outcome = {t["nodeid"]: t["outcome"] for t in doc["tests"]}
    assert outcome["test_nothing.py::test_checks_nothing"] == "error"


def test_nothing_selected_is_never_go(gg_project: Project) -> None:
    p = gg_project("passing")
    p.runpytest("-k", "no_such_check")
    assert read_json(p.path / "reports" / "verdict.json")["decision"] == "NO-GO"
