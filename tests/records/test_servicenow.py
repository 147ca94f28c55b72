"""ServiceNow change requests read as the Table API documentation shows them, on loopback.

Shapes from the ServiceNow REST API reference, "Table API - GET /now/table/{tableName}":
{"result": [...]} with ``sysparm_display_value=all`` giving each field as
{"display_value", "value"} (dates' values in UTC "YYYY-MM-DD HH:MM:SS"), and pages linked
by the ``Link`` header (rel="next"); work notes from the sys_journal_field table.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from goldgate.criteria.records import change_approved, notified_before
from goldgate.probes.records import servicenow
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

START = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=4)
SETTINGS = SimpleNamespace(table="change_request", number_field="number", state_field="state",
                           approval_field="approval", start_field="start_date", end_field="end_date")
SYS_ID = "c83c5e5347c12200e0ef563dbb9a7190"


def cell(value: str, display: str | None = None) -> dict[str, str]:
    return {"display_value": value if display is None else display, "value": value}


def change(state: tuple[str, str] = ("-2", "Scheduled"), approval: str = "approved") -> dict[str, Any]:
    return {"number": cell("CHG0030001"), "state": cell(*state), "approval": cell(approval, approval.capitalize()),
            "start_date": cell("2026-12-01 05:30:00", "2026-12-01 06:30:00"),
            "end_date": cell("2026-12-01 11:00:00", "2026-12-01 12:00:00"), "sys_id": cell(SYS_ID)}


NOTES = [{"sys_id": f"n{i}", "value": text, "sys_created_on": when, "sys_created_by": "release.manager"}
         for i, (text, when) in enumerate([("Risk assessed", "2026-11-29 09:00:00"),
                                           ("CAB approved", "2026-11-29 15:00:00"),
                                           ("Stakeholders notified of CHG0030001 by e-mail", "2026-11-30 16:00:00")])]


def table(row: dict[str, Any] | None, notes: list[dict[str, Any]] = NOTES):
    def answer(path: str, query: dict[str, str]):
        if path == "/api/now/table/change_request" and query["sysparm_query"] == "number=CHG0030001":
            assert query["sysparm_display_value"] == "all"
            return 200, {}, {"result": [row] if row else []}
        if path == "/api/now/table/sys_journal_field" and SYS_ID in query.get("sysparm_query", SYS_ID):
            offset = int(query.get("sysparm_offset", "0"))
            more = offset + 2 < len(notes)
            link = {"Link": f'<{{url}}/api/now/table/sys_journal_field?sysparm_offset={offset + 2}'
                            f'&sysparm_limit=2>;rel="next"'} if more else {}
            return 200, link, {"result": notes[offset: offset + 2]}
        return 404, {}, {"error": {"message": "No Record found"}, "status": "failure"}

    return answer


def read(client, handler):
    with serve(handler) as fake:
        c = client("ServiceNow", fake.url, auth=("svc-goldgate", "sn-test-password"))
        return servicenow.read_change(c, SETTINGS, "CHG0030001")[0], fake, c


def test_a_scheduled_approved_change_covering_the_window_passes(client) -> None:
    record, fake, _ = read(client, table(change()))
    assert record.planned_start == dt.datetime(2026, 12, 1, 5, 30, tzinfo=dt.UTC)  # the UTC value, not the display
    v = change_approved(record, START, END, ["Scheduled", "Implement"], ["Approved"])
    assert v.status is Status.PASS and "CHG0030001" in v.reason and v.provenance == "measured"
    assert fake.requests[0].headers["Authorization"].startswith("Basic ")


def test_a_change_still_in_assess_fails(client) -> None:
    record, _, _ = read(client, table(change(("-4", "Assess"), "requested")))
    v = change_approved(record, START, END, ["Scheduled", "Implement"], ["Approved"])
    assert v.status is Status.FAIL and "CHG0030001 is in state 'Assess'" in v.reason


def test_a_window_outside_the_planned_one_fails(client) -> None:
    record, _, _ = read(client, table(change()))
    v = change_approved(record, START, END + dt.timedelta(hours=2), ["Scheduled"], ["Approved"])
    assert v.status is Status.FAIL and "not inside the planned" in v.reason


def test_work_notes_are_read_across_pages_and_name_the_change(client) -> None:
    with serve(table(change())) as fake:
        c = client("ServiceNow", fake.url, auth=("svc-goldgate", "sn-test-password"))
        notes = servicenow.read_work_notes(c, "CHG0030001", SYS_ID)
    assert len(notes.messages) == 3 and len(fake.requests) == 2
    v = notified_before(notes, START, ["CHG0030001"])
    assert v.status is Status.PASS and "CHG0030001 work notes" in v.reason


def test_a_notification_after_the_window_opened_fails(client) -> None:
    late = [*NOTES[:2], {**NOTES[2], "sys_created_on": "2026-12-01 06:20:00"}]
    with serve(table(change(), late)) as fake:
        notes = servicenow.read_work_notes(client("ServiceNow", fake.url), "CHG0030001", SYS_ID)
    v = notified_before(notes, START, ["CHG0030001"])
    assert v.status is Status.FAIL and "20 min after the window opened" in v.reason and "CHG0030001" in v.reason


def test_an_unknown_change_is_an_error(client) -> None:
    with pytest.raises(RecordUnavailable, match=r"ServiceNow GET /api/now/table/change_request: no change_request"):
        read(client, table(None))


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_error_naming_servicenow(client, status: int) -> None:
    with pytest.raises(RecordUnavailable, match=rf"ServiceNow GET /api/now/table/change_request: HTTP {status}") as exc:
        read(client, lambda p, q: (status, {}, {"error": {"message": "User Not Authenticated"}, "status": "failure"}))
    assert "sn-test-password" not in str(exc.value)


def test_retry_after_is_honoured(client) -> None:
    record, _, c = read(client, rate_limited_once(table(change()), "1"))
    assert c.waits == [1.0] and record.record_id == "CHG0030001"


@pytest.mark.parametrize("row", [{"number": cell("CHG0030001")}, {**change(), "start_date": cell("1 Dec 2026")}])
def test_a_malformed_record_is_an_error(client, row: dict[str, Any]) -> None:
    with pytest.raises(RecordUnavailable, match=r"ServiceNow .*malformed"):
        read(client, table(row))
