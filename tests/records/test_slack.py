"""Slack channel history read as the Web API documentation shows it, served on loopback.

Shape from docs.slack.dev "conversations.history method" (arguments as a query or, as
slack_sdk sends them, a form-encoded POST): {"ok": true, "messages": [{"type",
"user", "text", "ts"}], "has_more", "response_metadata": {"next_cursor"}}; a refused token is
HTTP 200 with {"ok": false, "error": "invalid_auth"}; rate limits are HTTP 429 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from goldgate.criteria.records import notified_before
from goldgate.probes.records import slack
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

START = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)


def msg(text: str, at: dt.datetime, user: str = "U012AB3CDE") -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": f"{at.timestamp():.6f}"}


EARLY = [msg("Release 2.4.0 (CHG0030001) goes out tomorrow 06:00 UTC", START - dt.timedelta(hours=14)),
         msg("lunch?", START - dt.timedelta(hours=20)), msg("deploy channel is quiet", START - dt.timedelta(days=2))]


def history(messages: list[dict[str, Any]]):
    def answer(path: str, query: dict[str, str]):
        if path != "/conversations.history" or query.get("channel") != "C0RELEASES":
            return 200, {}, {"ok": False, "error": "channel_not_found"}
        start = int(query.get("cursor", "0") or "0")
        page = messages[start: start + 2]
        more = start + 2 < len(messages)
        return 200, {}, {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
                         "response_metadata": {"next_cursor": str(start + 2) if more else ""}}

    return answer


def read(client, handler):
    with serve(handler) as fake:
        c = client("Slack", fake.url, slack.headers("xoxb-test-token"))
        return slack.read_messages(c, "C0RELEASES", START - dt.timedelta(days=7), START + dt.timedelta(days=1)), fake, c


def test_a_message_before_the_window_passes_across_pages(client) -> None:
    record, fake, _ = read(client, history(EARLY))
    assert len(record.messages) == 3 and len(fake.requests) == 2 and fake.requests[1].query["cursor"] == "2"
    v = notified_before(record, START, ["CHG0030001", "2.4.0"])
    assert v.status is Status.PASS and "channel C0RELEASES" in v.reason


def test_a_notification_after_the_window_opened_fails(client) -> None:
    late = [msg("Release 2.4.0 (CHG0030001) is starting now", START + dt.timedelta(minutes=5)), *EARLY[1:]]
    record, _, _ = read(client, history(late))
    v = notified_before(record, START, ["CHG0030001"])
    assert v.status is Status.FAIL and "5 min after the window opened" in v.reason and "channel C0RELEASES" in v.reason


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "missing_scope"])
def test_a_refused_token_is_an_error_naming_slack(client, error: str) -> None:
    with pytest.raises(RecordUnavailable, match=rf"Slack POST conversations.history: .*{error}"):
        read(client, lambda p, q: (200, {}, {"ok": False, "error": error}))


def test_an_http_403_is_an_error_naming_slack(client) -> None:
    with pytest.raises(RecordUnavailable, match=r"Slack POST conversations.history: HTTP 403"):
        read(client, lambda p, q: (403, {}, {"ok": False}))


def test_retry_after_is_honoured(client) -> None:
    record, _, c = read(client, rate_limited_once(history(EARLY), "1"))
    assert c.waits == [1.0] and len(record.messages) == 3


@pytest.mark.parametrize("body", ["<!doctype html>", {"ok": True, "messages": {}}, {"ok": True, "messages": [{"ts": "x"}]}])
def test_a_malformed_body_is_an_error(client, body: object) -> None:
    with pytest.raises(RecordUnavailable, match=r"Slack POST conversations.history: .*(not JSON|malformed)"):
        read(client, lambda p, q: (200, {}, body))


def test_slack_sdks_own_retry_is_off_and_the_readers_bounds_hold(client) -> None:
    """A 503 is asked 1 + retries times, and the token goes as slack_sdk sends it (Bearer)."""
    with serve(lambda p, q: (503, {}, {"ok": False})) as fake:
        c = client("Slack", fake.url, slack.headers("xoxb-test-token"))
        with pytest.raises(RecordUnavailable, match=r"Slack POST conversations.history: HTTP 503"):
            slack.read_messages(c, "C0RELEASES", START - dt.timedelta(days=7), START)
    assert len(fake.requests) == 3 and c.waits == [0.2, 0.4]
    assert fake.requests[0].headers["Authorization"] == "Bearer xoxb-test-token"
