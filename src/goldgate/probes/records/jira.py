"""Change approval and window from a Jira issue, and its comments as the change record's notes.

Documented calls of the REST API v2: "Get issue" (``GET /rest/api/2/issue/{key}?fields=...``:
``fields.status.name`` and the environment's start/end fields, dates as
``2026-12-01T05:30:00.000+0000``) and "Get comments"
(``GET /rest/api/2/issue/{key}/comment``, paged by ``startAt``/``maxResults``/``total``).

Read through ``jira`` (pycontribs), the maintained Python client of Jira's REST API:
``JIRA.issue`` and ``JIRA.comments`` on its own session, token or basic auth, per-call
timeout. Its session's own retries (``max_retries``: it sleeps on 429/5xx by its own
schedule) are set to 0, and the server-info call it makes on start is skipped; each call
runs inside the shared reader's :meth:`~goldgate.probes.records.client.RecordClient.run`,
so Jira is bounded by the same retry count and Retry-After budget as every provider. The
client's comment list does not pass ``total`` on, so the comments are paged until a page
comes back empty (one more request than ``total`` would need).
Credentials: a user with "Browse projects" only; on Cloud its e-mail (``user``) and an API
token (``token``), on Data Center a personal access token (``token``) or ``user`` and
``password``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
from jira import JIRA, JIRAError

from goldgate.probes.records.client import RecordClient, RecordUnavailable, Refusal, need
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


def _jira(client: RecordClient) -> JIRA:
    """The jira client on the reader's URL and credentials, its own retries and start-up call off."""
    token = str(client.headers.get("Authorization", "")).removeprefix("Bearer ").strip() or None
    return JIRA(server=client.base_url.rstrip("/"), token_auth=None if client.auth else token,
                basic_auth=client.auth, timeout=client.timeout_s, max_retries=0, get_server_info=False,
                validate=False, options={"rest_api_version": "2"})


def _refusal(exc: Exception) -> Refusal | None:
    if isinstance(exc, JIRAError):
        resp = exc.response
        where = str(getattr(resp, "url", "") or exc.url or "")
        if exc.status_code is None:
            return Refusal(None, where=where, detail="no answer")
        after = resp.headers.get("Retry-After") if resp is not None else None
        return Refusal(int(exc.status_code), after, where)
    if isinstance(exc, ValueError):  # requests' JSONDecodeError is also a RequestException
        return Refusal(200, detail="the body is not JSON")
    if isinstance(exc, requests.RequestException):
        return Refusal(None, detail=type(exc).__name__)
    if isinstance(exc, KeyError | TypeError | AttributeError):  # not the documented shape
        return Refusal(200, detail="malformed body: not the documented shape")
    return None


def read_change(client: RecordClient, settings: Any, key: str) -> ChangeRecord:
    s = settings
    call = f"GET /rest/api/2/issue/{key}"
    j = _jira(client)
    fields_asked = ",".join([s.status_field, s.start_field, s.end_field])
    body = need(PROVIDER, call, client.run(call, lambda: j.issue(key, fields=fields_asked).raw, _refusal), dict,
                "the issue")
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
    j = _jira(client)
    out: list[Message] = []
    start = 0
    for _ in range(MAX_PAGES):
        page = client.run(call, lambda at=start: [c.raw for c in j.comments(key, start_at=at, max_results=50)],
                          _refusal)
        for c in page:
            c = need(PROVIDER, call, c, dict, "a comment")
            author = c.get("author") if isinstance(c.get("author"), dict) else {}
            out.append(Message(_time(call, c.get("created"), "created"), str(author.get("displayName", "")),
                               str(c.get("body") or ""), str(c.get("id", ""))))
        if not page:
            break
        start += len(page)
    else:
        raise RecordUnavailable(PROVIDER, call, f"more than {MAX_PAGES} pages of comments")
    return NotificationRecord(PROVIDER, f"{key} comments", tuple(out), client.url(f"rest/api/2/issue/{key}"))
