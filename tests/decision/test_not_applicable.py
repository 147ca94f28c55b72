"""``not_applicable:``: a check that does not apply to a service, said so wherever the decision is.

Real pytest runs (pytester) of synthetic goldgate projects, as for waivers: the check is
skipped as "not applicable: <reason>", does not hold back GO, and shows in verdict.json,
the terminal summary, ``goldgate verdict``, JUnit and the audit record; an entry naming no
check, or a production entry without approver and expiry, stops the run (exit 4).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from tests.report.conftest import LOCAL_ENV, read_json

Project = Callable[..., pytest.Pytester]

#: A check that would fail if it ran: declared not applicable, it must not run at all.
TLS_CHECK = '''
    from goldgate.verdict import Verdict, expect

    def test_tls_certificate_is_valid():
        expect(Verdict.failed("TLS certificate valid", 0, 14, "no endpoint"))
'''
REASON = "this service has no TLS endpoint (internal gRPC only)"
FUTURE = dt.date.today() + dt.timedelta(days=30)


def _entry(check: str = "test_tls_certificate_is_valid", **more: str) -> str:
    lines = [f"  - check: {check}", f"    reason: {REASON}"] + [f"    {k}: {v}" for k, v in more.items()]
    return "not_applicable:\n" + "\n".join(lines) + "\n"


def test_a_check_not_applicable_is_skipped_with_its_reason_and_go_says_so(gg_project: Project) -> None:
    p = gg_project("passing", env=LOCAL_ENV + _entry())
    p.makepyfile(test_tls=textwrap.dedent(TLS_CHECK))
    result = p.runpytest()
    assert result.ret == 0, result.stdout.str()[-2000:]
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["decision"] == "GO" and doc["decision_text"] == "GO with 1 check not applicable"
    [entry] = doc["not_run"]
    assert entry["reason"] == f"not applicable: {REASON}"
    assert entry["not_applicable"] == {"check": "test_tls_certificate_is_valid", "reason": REASON}
    assert doc["not_applicable"] == [entry] and doc["waivers"] == []
    result.stdout.fnmatch_lines(["decision: GO with 1 check not applicable*",
                                 f"*not applicable: test_tls.py::test_tls_certificate_is_valid — {REASON}*"])
    skipped = ET.parse(p.path / "reports" / "junit.xml").getroot().find(".//skipped")  # noqa: S314 - this run's file
    assert skipped is not None and f"not applicable: {REASON}" in skipped.get("message", "")
    [record] = [json.loads(line) for line in (p.path / "reports" / "audit.jsonl").read_text().splitlines()]
    assert record["status"]["not_applicable"][0]["not_applicable"]["reason"] == REASON
    shown = subprocess.run([sys.executable, "-m", "goldgate.cli", "verdict", "--file",
                            str(p.path / "reports" / "verdict.json")], capture_output=True, text=True, timeout=60,
                           check=False)
    assert shown.returncode == 0 and f"not applicable: test_tls.py::test_tls_certificate_is_valid — {REASON}" \
        in shown.stdout, shown.stdout + shown.stderr


def test_a_not_applicable_entry_naming_no_check_stops_the_run(gg_project: Project) -> None:
    p = gg_project("passing", env=LOCAL_ENV + _entry("test_no_such_check"))
    result = p.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*not_applicable.0 ('test_no_such_check'): names no check of this suite*"])


PRODUCTION = """\
name: local
production: true
kubernetes: {kubeconfig: /nonexistent/kubeconfig}
http: {base_url: "http://127.0.0.1:9"}
release: {version: v9.9.9, previous_version: v9.9.8}
"""


def test_production_needs_an_approver_and_an_expiry(gg_project: Project) -> None:
    p = gg_project("passing", env=PRODUCTION + _entry())
    result = p.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*not_applicable.0 ('test_tls_certificate_is_valid'): in a production environment "
                                 "a check declared not applicable needs an approver and an expiry*"])
    assert "Traceback" not in result.stderr.str()


def test_production_with_approval_is_shown_with_it(gg_project: Project) -> None:
    p = gg_project("passing", env=PRODUCTION + _entry(approver="jane.doe", expiry=FUTURE.isoformat()))
    p.makepyfile(test_tls=textwrap.dedent(TLS_CHECK))
    result = p.runpytest()
    assert result.ret == 0, result.stdout.str()[-2000:]
    doc = read_json(p.path / "reports" / "verdict.json")
    assert doc["not_applicable"][0]["not_applicable"]["approver"] == "jane.doe"
    result.stdout.fnmatch_lines([f"*not applicable: *— {REASON} (approved by jane.doe, expires {FUTURE}*"])


def test_an_expired_entry_stops_the_run(gg_project: Project) -> None:
    past = dt.date.today() - dt.timedelta(days=1)
    p = gg_project("passing", env=LOCAL_ENV + _entry(approver="jane.doe", expiry=past.isoformat()))
    result = p.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*not_applicable.0 ('test_tls_certificate_is_valid'): expired on {past}*"])
