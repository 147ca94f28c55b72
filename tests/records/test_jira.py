"""Jira change issues read as the REST API v2 documentation shows them, served on loopback.

Shapes from developer.atlassian.com "The Jira Cloud platform REST API - Issues - Get issue"
(GET /rest/api/2/issue/{issueIdOrKey}: key, fields.status.name, custom date-time fields as
2026-12-01T05:30:00.000+0000) and "Issue comments - Get comments"
(GET /rest/api/2/issue/{issueIdOrKey}/comment: startAt, maxResults, total, comments[]).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from goldgate.criteria.records import change_approved, notified_before
from goldgate.probes.records import jira
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

START = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=4)
SETTINGS = SimpleNamespace(status_field="status", start_field="customfield_10050", end_field="customfield_10051")


def issue(status: str = "Approved") -> dict[str, Any]:
    return {"expand": "renderedFields", "id": "10002", "key": "OPS-123",
            "self": "https://your-domain.atlassian.net/rest/api/2/issue/10002",
            "fields": {"status": {"name": status, "id": "10001", "statusCategory": {"key": "indeterminate"}},
                       "customfield_10050": "2026-12-01T05:30:00.000+0000",
                       "customfield_10051": "2026-12-01T11:00:00.000+0000"}}


COMMENTS = [{"id": str(10000 + i), "author": {"displayName": "Mia Krystof", "active": False}, "body": text,
             "created": when, "updated": when}
            for i, (text, when) in enumerate([("Risk reviewed", "2026-11-29T09:00:00.000+0000"),
                                              ("CAB approved", "2026-11-29T15:00:00.000+0000"),
                                              ("Stakeholders told about OPS-123", "2026-11-30T16:00:00.000+0000")])]


def server(status: str = "Approved", comments: list[dict[str, Any]] = COMMENTS):
    def answer(path: str, query: dict[str, str]):
        if path == "/rest/api/2/issue/OPS-123":
            return 200, {}, issue(status)
        if path == "/rest/api/2/issue/OPS-123/comment":
            start = int(query.get("startAt", "0"))
            return 200, {}, {"startAt": start, "maxResults": 2, "total": len(comments), "comments": comments[start: start + 2]}
        return 404, {}, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}

    return answer


def read(client, handler):
    with serve(handler) as fake:
        c = client("Jira", fake.url, jira.headers("jira-test-token"))
        return jira.read_change(c, SETTINGS, "OPS-123"), fake, c


def test_an_approved_issue_covering_the_window_passes(client) -> None:
    record, fake, _ = read(client, server())
    assert record.planned_start == dt.datetime(2026, 12, 1, 5, 30, tzinfo=dt.UTC)
    assert fake.requests[0].query["fields"] == "status,customfield_10050,customfield_10051"
    v = change_approved(record, START, END, ["Approved", "Scheduled"])
    assert v.status is Status.PASS and "OPS-123" in v.reason


def test_an_issue_still_in_assess_fails(client) -> None:
    record, _, _ = read(client, server("Assess"))
    v = change_approved(record, START, END, ["Approved", "Scheduled"])
    assert v.status is Status.FAIL and "OPS-123 is in state 'Assess'" in v.reason


def test_comments_are_read_across_pages(client) -> None:
    with serve(server()) as fake:
        notes = jira.read_comments(client("Jira", fake.url), "OPS-123")
    # The jira client's comment list drops ``total``: the pages are read until one comes back empty.
    assert len(notes.messages) == 3 and [r.query["startAt"] for r in fake.requests] == ["0", "2", "3"]
    assert notified_before(notes, START, ["OPS-123"]).status is Status.PASS


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_error_naming_jira(client, status: int) -> None:
    with pytest.raises(RecordUnavailable, match=rf"Jira GET /rest/api/2/issue/OPS-123: HTTP {status}"):
        read(client, lambda p, q: (status, {}, {"errorMessages": ["You do not have permission"]}))


def test_retry_after_is_honoured(client) -> None:
    record, _, c = read(client, rate_limited_once(server(), "1"))
    assert c.waits == [1.0] and record.record_id == "OPS-123"


@pytest.mark.parametrize("body", ["<html>", {"fields": []}, {"key": "OPS-123", "fields": {"status": {}}},
                                  {**issue(), "fields": {**issue()["fields"], "customfield_10050": "soon"}}])
def test_a_malformed_body_is_an_error(client, body: object) -> None:
    with pytest.raises(RecordUnavailable, match=r"Jira GET .*(not JSON|malformed)"):
        read(client, lambda p, q: (200, {}, body))


def test_the_jira_clients_own_retry_is_off_and_the_readers_bounds_hold(client) -> None:
    """A 503 is asked 1 + retries times (the client's session alone would retry it on its own schedule)."""
    with serve(lambda p, q: (503, {}, {"errorMessages": ["Service Unavailable"]})) as fake:
        c = client("Jira", fake.url, jira.headers("jira-test-token"))
        with pytest.raises(RecordUnavailable, match=r"Jira GET /rest/api/2/issue/OPS-123: HTTP 503"):
            jira.read_change(c, SETTINGS, "OPS-123")
    assert len(fake.requests) == 3 and c.waits == [0.2, 0.4]
    sent = {k.lower(): v for k, v in fake.requests[0].headers.items()}
    assert sent["authorization"] == "Bearer jira-test-token"
