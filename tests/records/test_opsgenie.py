"""Opsgenie on-call read as the Schedule API documentation shows it, served on loopback.

Shape from docs.opsgenie.com "Schedule API - Get Schedule Timeline"
(GET /v2/schedules/:identifier/timeline: data.finalTimeline.rotations[].periods[] with
startDate, endDate, type, recipient {id, type, name}). The timeline is one answer per
schedule (the API does not page it); the primary and the secondary are two schedules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from goldgate.criteria.records import on_call_covers
from goldgate.probes.records import opsgenie
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

START = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=4)


def timeline(periods: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {"data": {"_parent": {"id": "d875alp4-9b4e-4219-a803-0c26936d18de", "name": "ScheduleName", "enabled": True},
                     "startDate": "2026-12-01T06:00:00Z", "endDate": "2026-12-02T06:00:00Z",
                     "finalTimeline": {"rotations": [{"id": "r1", "name": "Rota", "order": 1.0, "periods": [
                         {"startDate": s, "endDate": e, "type": "default",
                          "recipient": {"id": f"u-{who}", "type": "user", "name": f"{who}@example.com"}}
                         for s, e, who in periods]}]}},
            "took": 0.067, "requestId": "4ea0e52c-7a2e-4b54-a6b3-1a8e3cc1c4b6"}


PRIMARY = [("2026-12-01T00:00:00Z", "2026-12-01T12:00:00Z", "dana")]
SECONDARY = [("2026-12-01T00:00:00Z", "2026-12-01T08:00:00Z", "eli"), ("2026-12-01T08:00:00Z", "2026-12-02T00:00:00Z", "fay")]


def schedules(primary=PRIMARY, secondary=SECONDARY):
    def answer(path: str, query: dict[str, str]):
        assert query["identifierType"] == "id" and query["intervalUnit"] == "days"
        if path == "/v2/schedules/sched-primary/timeline":
            return 200, {}, timeline(primary)
        if path == "/v2/schedules/sched-secondary/timeline":
            return 200, {}, timeline(secondary)
        return 404, {}, {"message": "Schedule not found", "took": 0.0, "requestId": "x"}

    return answer


def read(client, handler):
    with serve(handler) as fake:
        c = client("Opsgenie", fake.url, opsgenie.headers("og-test-key"))
        return opsgenie.read_on_call(c, "sched-primary", "sched-secondary", START, END), fake, c


def test_both_schedules_cover_the_window(client) -> None:
    record, fake, _ = read(client, schedules())
    assert fake.requests[0].headers["Authorization"] == "GenieKey og-test-key" and len(record.entries) == 3
    v = on_call_covers(record, START, END)
    assert v.status is Status.PASS and "sched-primary" in v.reason


def test_a_gap_in_the_middle_of_the_window_fails(client) -> None:
    gap = [("2026-12-01T00:00:00Z", "2026-12-01T07:00:00Z", "eli"), ("2026-12-01T09:00:00Z", "2026-12-02T00:00:00Z", "fay")]
    record, _, _ = read(client, schedules(secondary=gap))
    v = on_call_covers(record, START, END)
    assert v.status is Status.FAIL and "no secondary (level 2) on call from 2026-12-01T07:00:00Z" in v.reason
    assert "sched-secondary" in v.reason


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_an_error_naming_opsgenie(client, status: int) -> None:
    with pytest.raises(RecordUnavailable, match=rf"Opsgenie GET /v2/schedules/sched-primary/timeline: HTTP {status}"):
        read(client, lambda p, q: (status, {}, {"message": "Could not authenticate", "took": 0.0}))


def test_retry_after_is_honoured(client) -> None:
    record, _, c = read(client, rate_limited_once(schedules(), "1"))
    assert c.waits == [1.0] and len(record.entries) == 3


@pytest.mark.parametrize("body", ["oops", {"data": []}, {"data": {"finalTimeline": {"rotations": [{"periods": [{}]}]}}},
                                  timeline([("yesterday", "2026-12-02T00:00:00Z", "x")])])
def test_a_malformed_body_is_an_error(client, body: object) -> None:
    with pytest.raises(RecordUnavailable, match=r"Opsgenie GET .*(not JSON|malformed)"):
        read(client, lambda p, q: (200, {}, body))
