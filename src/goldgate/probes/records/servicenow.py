"""Change approval, planned window and work notes from a ServiceNow change request.

Documented calls of the Table API: ``GET /api/now/table/change_request`` with
``sysparm_query=number=<ticket>`` and ``sysparm_display_value=all`` (every field as
``{"value", "display_value"}``: the state's display value, e.g. "Assess" or "Scheduled",
and the dates' stored values, which are UTC "YYYY-MM-DD HH:MM:SS"); work notes from
``GET /api/now/table/sys_journal_field`` paged by the ``Link: rel="next"`` header.

Read with ``requests`` on the shared bounded reader: ServiceNow has no maintained Python
client for the Table API. ServiceNow publishes none of its own, and the community's
``pysnow`` has had no release since 0.7.17 (March 2021; checked on PyPI 2026-12-06) and
pins ``oauthlib<4``, ``requests-oauthlib<2`` and ``pytz<2020``, below this lock's. The
Table API is plain JSON over HTTPS. Credentials: a user with the read-only ``itil`` role on
change_request and sys_journal_field (basic auth) or an OAuth bearer token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need, next_link
from goldgate.probes.records.facts import ChangeRecord, Message, NotificationRecord

PROVIDER = "ServiceNow"
MAX_PAGES = 20


def headers(token: str | None) -> dict[str, str]:
    out = {"Accept": "application/json"}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


def _field(call: str, row: dict[str, Any], name: str, kind: str = "display_value") -> str:
    cell = row.get(name)
    if isinstance(cell, dict):
        cell = cell.get(kind)
    if cell is None:
        raise RecordUnavailable(PROVIDER, call, f"malformed body: field {name!r} missing from the record")
    return str(cell)


def _utc(call: str, text: str, what: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        raise RecordUnavailable(PROVIDER, call, f"malformed body: {what} {text!r} is not "
                                "'YYYY-MM-DD HH:MM:SS'") from None


def read_change(client: RecordClient, settings: Any, number: str) -> tuple[ChangeRecord, str]:
    """The change request ``number`` and its sys_id (for its work notes)."""
    s = settings
    call = f"GET /api/now/table/{s.table}"
    fields = [s.number_field, s.state_field, s.approval_field, s.start_field, s.end_field, "sys_id"]
    body = need(PROVIDER, call, client.get(call, f"api/now/table/{s.table}", {
        "sysparm_query": f"{s.number_field}={number}", "sysparm_display_value": "all",
        "sysparm_fields": ",".join(fields), "sysparm_limit": 2}).body, dict, "the answer")
    rows = need(PROVIDER, call, body.get("result"), list, "result")
    if not rows:
        raise RecordUnavailable(PROVIDER, call, f"no {s.table} record with {s.number_field} {number}")
    row = need(PROVIDER, call, rows[0], dict, "a record")
    change = ChangeRecord(
        PROVIDER, _field(call, row, s.number_field), _field(call, row, s.state_field),
        _field(call, row, s.approval_field),
        _utc(call, _field(call, row, s.start_field, "value"), s.start_field),
        _utc(call, _field(call, row, s.end_field, "value"), s.end_field),
        source=client.url(f"api/now/table/{s.table}"))
    return change, _field(call, row, "sys_id", "value")


def read_work_notes(client: RecordClient, number: str, sys_id: str) -> NotificationRecord:
    """Every work note of the change request, oldest first."""
    call = "GET /api/now/table/sys_journal_field"
    url: str | None = "api/now/table/sys_journal_field"
    params: dict[str, Any] | None = {
        "sysparm_query": f"element_id={sys_id}^element=work_notes^ORDERBYsys_created_on",
        "sysparm_fields": "sys_id,value,sys_created_on,sys_created_by", "sysparm_limit": 100}
    notes: list[Message] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        reply = client.get(call, url, params)
        rows = need(PROVIDER, call, need(PROVIDER, call, reply.body, dict, "the answer").get("result"), list,
                    "result")
        for row in rows:
            row = need(PROVIDER, call, row, dict, "a journal entry")
            notes.append(Message(_utc(call, _field(call, row, "sys_created_on"), "sys_created_on"),
                                 str(row.get("sys_created_by", "")), _field(call, row, "value"),
                                 str(row.get("sys_id", ""))))
        url, params = next_link(reply.headers.get("Link", "")), None
    else:
        raise RecordUnavailable(PROVIDER, call, f"more than {MAX_PAGES} pages of work notes")
    return NotificationRecord(PROVIDER, f"{number} work notes", tuple(notes), client.url(call.split(" ", 1)[1]))
