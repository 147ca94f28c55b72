"""Change approval and window from a Jira issue, and its comments as the change record's notes.

Documented calls of the REST API v2: "Get issue" (``GET /rest/api/2/issue/{key}?fields=...``:
``fields.status.name`` and the environment's start/end fields, dates as
``2026-12-01T05:30:00.000+0000``) and "Get comments"
(``GET /rest/api/2/issue/{key}/comment``, paged by ``startAt``/``maxResults``/``total``).

Read with ``requests`` on the shared bounded reader so one timeout, retry and Retry-After
policy covers every provider (the ``jira`` package brings its own session and retries).
Credentials: a user with "Browse projects" only; on Cloud its e-mail (``user``) and an API
token (``token``), on Data Center a personal access token (``token``) or ``user`` and
``password``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need
from goldgate.probes.records.facts import ChangeRecord, Message, NotificationRecord

PROVIDER = "Jira"
MAX_PAGES = 20


def headers(token: str | None) -> dict[str, str]:
    out = {"Accept": "application/json"}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


def _time(call: str, value: Any, what: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = f"{text[:-2]}:{text[-2:]}"  # Jira's +0000 -> +00:00
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError:
            t = None
        if t is not None and t.tzinfo is not None:
            return t
    raise RecordUnavailable(PROVIDER, call, f"malformed body: {what} {value!r} is not a date-time with a zone")


def read_change(client: RecordClient, settings: Any, key: str) -> ChangeRecord:
    s = settings
    call = f"GET /rest/api/2/issue/{key}"
    body = need(PROVIDER, call, client.get(call, f"rest/api/2/issue/{key}", {
        "fields": ",".join([s.status_field, s.start_field, s.end_field])}).body, dict, "the issue")
    fields = need(PROVIDER, call, body.get("fields"), dict, "fields")
    status = fields.get(s.status_field)
    name = status.get("name") if isinstance(status, dict) else status
    if not isinstance(name, str):
        raise RecordUnavailable(PROVIDER, call, f"malformed body: fields.{s.status_field} has no name")
    return ChangeRecord(PROVIDER, str(body.get("key") or key), name, name,
                        _time(call, fields.get(s.start_field), f"fields.{s.start_field}"),
                        _time(call, fields.get(s.end_field), f"fields.{s.end_field}"),
                        source=client.url(f"rest/api/2/issue/{key}"))


def read_comments(client: RecordClient, key: str) -> NotificationRecord:
    call = f"GET /rest/api/2/issue/{key}/comment"
    out: list[Message] = []
    start = 0
    for _ in range(MAX_PAGES):
        body = need(PROVIDER, call, client.get(call, f"rest/api/2/issue/{key}/comment",
                                               {"startAt": start, "maxResults": 50}).body, dict, "the answer")
        page = need(PROVIDER, call, body.get("comments"), list, "comments")
        for c in page:
            c = need(PROVIDER, call, c, dict, "a comment")
            author = c.get("author") if isinstance(c.get("author"), dict) else {}
            out.append(Message(_time(call, c.get("created"), "created"), str(author.get("displayName", "")),
                               str(c.get("body") or ""), str(c.get("id", ""))))
        start += len(page)
        total = body.get("total")
        if not page or not isinstance(total, int) or start >= total:
            break
    else:
        raise RecordUnavailable(PROVIDER, call, f"more than {MAX_PAGES} pages of comments")
    return NotificationRecord(PROVIDER, f"{key} comments", tuple(out), client.url(f"rest/api/2/issue/{key}"))
