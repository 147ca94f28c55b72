"""Stakeholder notification from a Slack channel: ``conversations.history`` over the days
before the deployment window.

Documented call ``GET conversations.history`` (``channel``, ``oldest``, ``latest``,
``limit``, ``cursor``; pages by ``response_metadata.next_cursor``). Slack answers a bad
token with HTTP 200 and ``{"ok": false, "error": "invalid_auth"}``: any ``ok: false`` is
an error naming Slack's error code, never an empty history.

Read with ``requests`` on the shared bounded reader so that one Retry-After and retry
policy covers every provider (slack_sdk's WebClient raises on 429 unless given its own
retry handlers). Token: a bot token with ``channels:history`` (``groups:history`` for a
private channel), nothing else.
"""

from __future__ import annotations

import datetime as dt

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need
from goldgate.probes.records.facts import Message, NotificationRecord

PROVIDER = "Slack"
CALL = "GET conversations.history"
MAX_PAGES = 20


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read_messages(client: RecordClient, channel: str, oldest: dt.datetime, latest: dt.datetime) -> NotificationRecord:
    messages: list[Message] = []
    cursor = ""
    for _ in range(MAX_PAGES):
        params = {"channel": channel, "oldest": f"{oldest.timestamp():.6f}", "latest": f"{latest.timestamp():.6f}",
                  "limit": 200, "inclusive": "true"}
        if cursor:
            params["cursor"] = cursor
        body = need(PROVIDER, CALL, client.get(CALL, "conversations.history", params).body, dict, "the answer")
        if body.get("ok") is not True:
            raise RecordUnavailable(PROVIDER, CALL, f"ok is {body.get('ok')!r}: {body.get('error') or 'no error named'}")
        for item in need(PROVIDER, CALL, body.get("messages"), list, "messages"):
            messages.append(_message(item))
        cursor = str((body.get("response_metadata") or {}).get("next_cursor") or "")
        if not body.get("has_more") or not cursor:
            break
    else:
        raise RecordUnavailable(PROVIDER, CALL, f"more than {MAX_PAGES} pages of messages")
    return NotificationRecord(PROVIDER, f"channel {channel}", tuple(messages), client.url("conversations.history"))


def _message(item: object) -> Message:
    item = need(PROVIDER, CALL, item, dict, "a message")
    try:
        posted = dt.datetime.fromtimestamp(float(item["ts"]), dt.UTC)
    except (KeyError, TypeError, ValueError):
        raise RecordUnavailable(PROVIDER, CALL, f"malformed body: a message with ts {item.get('ts')!r}") from None
    return Message(posted, str(item.get("user") or item.get("bot_id") or ""), str(item.get("text") or ""),
                   str(item["ts"]))
