"""PagerDuty on-calls read as the REST API v2 reference shows them, served on loopback.

Shape from developer.pagerduty.com "List all of the on-calls" (GET /oncalls with
escalation_policy_ids[], since, until; answer {"oncalls": [{escalation_policy, escalation_level,
schedule, user, start, end}], "limit", "offset", "more", "total"}; offset pagination).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from goldgate.criteria.records import on_call_covers
from goldgate.probes.records import pagerduty
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

START = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=4)


def entry(user: str, level: int, start: str | None, end: str | None) -> dict[str, Any]:
    return {"escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Trading bot"},
            "escalation_level": level,
            "schedule": {"id": f"PI7DH8{level}", "type": "schedule_reference", "summary": f"Level {level}"},
            "user": {"id": f"P{user.upper()[:5]}", "type": "user_reference", "summary": user,
                     "self": f"https://api.pagerduty.com/users/P{user.upper()[:5]}"},
            "start": start, "end": end}


HEALTHY = [entry("Dana Ortiz", 1, "2026-12-01T00:00:00Z", "2026-12-01T12:00:00Z"),
           entry("Eli Park", 2, "2026-11-30T18:00:00Z", "2026-12-01T08:00:00Z"),
           entry("Fay Lin", 2, "2026-12-01T08:00:00Z", "2026-12-01T20:00:00Z")]


def paging(entries: list[dict[str, Any]]):
    def answer(path: str, query: dict[str, str]):
        if path != "/oncalls" or query.get("escalation_policy_ids[]") != "PT20YPA":
            return 404, {}, {"error": {"message": "Not Found", "code": 2100}}
        limit, offset = 2, int(query.get("offset", "0"))
        page = entries[offset: offset + limit]
        return 200, {}, {"oncalls": page, "limit": limit, "offset": offset, "more": offset + limit < len(entries),
                         "total": None}

    return answer


def read(client, handler):
    # PagerDuty's client speaks HTTPS only: the loopback server does too, with its own certificate.
    with serve(handler, tls=True) as fake:
        c = client("PagerDuty", fake.url, pagerduty.headers("pd-test-key"), verify=fake.ca)
        return pagerduty.read_on_call(c, "PT20YPA", START, END), fake, c


def test_primary_and_secondary_cover_the_window_across_pages(client) -> None:
    record, fake, _ = read(client, paging(HEALTHY))
    assert len(record.entries) == 3 and len(fake.requests) == 2
    assert fake.requests[0].headers["Authorization"] == "Token token=pd-test-key"
    assert fake.requests[0].query["since"].startswith("2026-12-01T06:00:00")
    v = on_call_covers(record, START, END)
    assert v.status is Status.PASS and "escalation policy PT20YPA" in v.reason


def test_a_gap_in_the_middle_of_the_window_fails(client) -> None:
    gap = [HEALTHY[0], entry("Eli Park", 2, "2026-11-30T18:00:00Z", "2026-12-01T07:00:00Z"),
           entry("Fay Lin", 2, "2026-12-01T08:30:00Z", "2026-12-01T20:00:00Z")]
    record, _, _ = read(client, paging(gap))
    v = on_call_covers(record, START, END)
    assert v.status is Status.FAIL and "escalation policy PT20YPA" in v.reason
    assert "no secondary (level 2) on call from 2026-12-01T07:00:00Z to 2026-12-01T08:30:00Z" in v.reason


def test_the_same_person_at_both_levels_fails(client) -> None:
    same = [HEALTHY[0], entry("Dana Ortiz", 2, None, None)]
    record, _, _ = read(client, paging(same))
    v = on_call_covers(record, START, END)
    assert v.status is Status.FAIL and "Dana Ortiz is both primary and secondary" in v.reason


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_an_error_naming_pagerduty(client, status: int) -> None:
    with pytest.raises(RecordUnavailable, match=rf"PagerDuty GET /oncalls: HTTP {status}"):
        read(client, lambda p, q: (status, {}, {"error": {"message": "Unauthorized", "code": 2006}}))


def test_retry_after_is_honoured(client) -> None:
    record, _, c = read(client, rate_limited_once(paging(HEALTHY), "2"))
    assert c.waits == [2.0] and len(record.entries) == 3


@pytest.mark.parametrize("body", ["not json", {"oncalls": "x"}, {"oncalls": [{"user": {"id": "P1"}}]},
                                  {"oncalls": [entry("a", 1, "yesterday", None)]}])
def test_a_malformed_body_is_an_error(client, body: object) -> None:
    with pytest.raises(RecordUnavailable, match=r"PagerDuty GET /oncalls: .*(not JSON|malformed)"):
        read(client, lambda p, q: (200, {}, body))


def test_a_server_error_is_retried_then_an_error(client) -> None:
    with pytest.raises(RecordUnavailable, match=r"PagerDuty GET /oncalls: HTTP 503"):
        read(client, lambda p, q: (503, {}, {"error": "unavailable"}))


def test_the_pagerduty_clients_own_retry_is_off_and_the_readers_bounds_hold(client) -> None:
    """A persistent 429 is asked 1 + retries times with Retry-After waited within the budget (the
    client alone would retry a 429 without limit on its own back-off)."""
    with serve(lambda p, q: (429, {"Retry-After": "1"}, {"error": {"message": "Rate Limit Exceeded"}}), tls=True) as fake:
        c = client("PagerDuty", fake.url, pagerduty.headers("pd-test-key"), verify=fake.ca)
        with pytest.raises(RecordUnavailable, match=r"PagerDuty GET /oncalls: HTTP 429: still rate-limited after 2"):
            pagerduty.read_on_call(c, "PT20YPA", START, END)
    assert len(fake.requests) == 3 and c.waits == [1.0, 1.0]


def test_no_answer_is_an_error_naming_pagerduty(client) -> None:
    with serve(paging(HEALTHY), tls=True) as fake:
        url, ca = fake.url, fake.ca
    c = client("PagerDuty", url, pagerduty.headers("pd-test-key"))
    with pytest.raises(RecordUnavailable, match=r"PagerDuty GET /oncalls: ConnectError after 3 attempts") as exc:
        pagerduty.read_on_call(c, "PT20YPA", START, END)
    assert "pd-test-key" not in str(exc.value) and c.waits == [0.2, 0.4]
    with pytest.raises(RecordUnavailable, match=r"PagerDuty GET /oncalls: the CA bundle .* cannot be read"):
        pagerduty.read_on_call(client("PagerDuty", url, pagerduty.headers("k"), verify=ca), "PT20YPA", START, END)


def test_a_plain_http_url_is_an_error_naming_pagerduty(client) -> None:
    """The client refuses http:// (an API key would travel in clear): one line, no traceback."""
    with pytest.raises(RecordUnavailable, match=r"PagerDuty GET /oncalls: the client takes https:// URLs only"):
        pagerduty.read_on_call(client("PagerDuty", "http://127.0.0.1:9", pagerduty.headers("k")), "PT20YPA", START, END)
