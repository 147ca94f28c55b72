"""Stakeholder notification from a Slack channel: ``conversations.history`` over the days
before the deployment window.

Documented call ``conversations.history`` (``channel``, ``oldest``, ``latest``, ``limit``,
``cursor``; pages by ``response_metadata.next_cursor``). Slack answers a bad token with
HTTP 200 and ``{"ok": false, "error": "invalid_auth"}``: any ``ok: false`` is an error
naming Slack's error code, never an empty history.

Read through slack_sdk's ``WebClient``, Slack's maintained client (it POSTs the arguments
form-encoded, as the Web API accepts for every method, and raises ``SlackApiError`` on
``ok: false``, a non-JSON body and any HTTP error). Its retry handlers (connection errors by
default, rate limits when asked) are emptied: each page runs inside the shared reader's
:meth:`~goldgate.probes.records.client.RecordClient.run`, so a 429's Retry-After is
honoured only within the probe's budget, like every other provider. Pages are asked one
by one rather than through the response's own iteration, so each page is one bounded call.
Token: a bot token with ``channels:history`` (``groups:history`` for a private channel),
nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from goldgate.probes.records.client import RecordClient, RecordUnavailable, Refusal, need
from goldgate.probes.records.facts import Message, NotificationRecord

PROVIDER = "Slack"
CALL = "POST conversations.history"
MAX_PAGES = 20
# How slack_sdk words a body it could not decode (it never raises a JSON error of its own).
NOT_JSON = "Received a response in a non-JSON format"


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _web(client: RecordClient) -> WebClient:
    """slack_sdk's WebClient on the reader's URL and token, with no retry handler of its own."""
    token = str(client.headers.get("Authorization", "")).partition(" ")[2] or None
    return WebClient(token=token, base_url=f"{client.base_url.rstrip('/')}/", timeout=client.timeout_s,
                     retry_handlers=[])


def _refusal(exc: Exception) -> Refusal | None:
    if isinstance(exc, SlackApiError):
        resp = exc.response
        data = resp.data if isinstance(resp.data, dict) else {}
        error = str(data.get("error") or "")
        where = str(resp.api_url)
        if resp.status_code != 200:
            headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
            return Refusal(resp.status_code, str(headers.get("retry-after") or "") or None, where)
        if error.startswith(NOT_JSON):
            return Refusal(200, where=where, detail="the body is not JSON")
        return Refusal(200, where=where, detail=f"ok is {data.get('ok')!r}: {error or 'no error named'}")
    if isinstance(exc, URLError | OSError):  # refused, unreachable, timed out
        return Refusal(None, detail=type(exc).__name__)
    return None


def _page(client: RecordClient, web: WebClient, params: dict[str, Any]) -> Any:
    web.timeout = client.call_timeout_s()  # type: ignore[assignment]  # never past the budget
    return web.conversations_history(**params).data


def read_messages(client: RecordClient, channel: str, oldest: dt.datetime, latest: dt.datetime) -> NotificationRecord:
    web = _web(client)
    messages: list[Message] = []
    cursor = ""
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"channel": channel, "oldest": f"{oldest.timestamp():.6f}",
                                  "latest": f"{latest.timestamp():.6f}", "limit": 200, "inclusive": True}
        if cursor:
            params["cursor"] = cursor
        body = need(PROVIDER, CALL, client.run(CALL, lambda p=params: _page(client, web, p), _refusal), dict,
                    "the answer")
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
