"""On-call from PagerDuty: every on-call entry of the escalation policy over the window.

Documented call "List all of the on-calls" (``GET /oncalls`` with ``escalation_policy_ids[]``,
``since``, ``until``, paged by ``offset``/``limit``/``more``). Each entry carries the user,
the escalation level and its start/end (clipped to the asked range). Level 1 is the
primary, level 2 the secondary.

Read with ``requests`` on the shared bounded reader rather than PagerDuty's client
(``pagerduty``, formerly pdpyras), so that one timeout, retry count and Retry-After budget
bounds every provider alike; this is one paged GET.
Token: a read-only REST API key (``Authorization: Token token=...``).
"""

from __future__ import annotations

import datetime as dt

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need, timestamp
from goldgate.probes.records.facts import OnCallEntry, OnCallRecord

PROVIDER = "PagerDuty"
CALL = "GET /oncalls"
MAX_PAGES = 20
PAGE = 100


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"}


def read_on_call(client: RecordClient, policy: str, since: dt.datetime, until: dt.datetime) -> OnCallRecord:
    entries: list[OnCallEntry] = []
    offset = 0
    for _ in range(MAX_PAGES):
        body = need(PROVIDER, CALL, client.get(CALL, "oncalls", {
            "escalation_policy_ids[]": policy, "since": since.isoformat(), "until": until.isoformat(),
            "time_zone": "UTC", "limit": PAGE, "offset": offset}).body, dict, "the answer")
        page = need(PROVIDER, CALL, body.get("oncalls"), list, "oncalls")
        entries += [_entry(item) for item in page]
        if not body.get("more"):
            break
        offset += len(page)
        if not page:
            raise RecordUnavailable(PROVIDER, CALL, "malformed body: more is true on an empty page")
    else:
        raise RecordUnavailable(PROVIDER, CALL, f"more than {MAX_PAGES} pages of on-calls")
    return OnCallRecord(PROVIDER, f"escalation policy {policy}", tuple(entries), client.url("oncalls"))


def _entry(item: object) -> OnCallEntry:
    item = need(PROVIDER, CALL, item, dict, "an on-call entry")
    try:
        user = item["user"]
        person = str(user.get("summary") or user.get("name") or user["id"])
        level = int(item["escalation_level"])
        schedule = (item.get("schedule") or {}).get("id", "")
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RecordUnavailable(PROVIDER, CALL, "malformed body: an on-call without user or escalation_level") from None
    return OnCallEntry(person, level, timestamp(PROVIDER, CALL, item.get("start"), "start", nullable=True),
                       timestamp(PROVIDER, CALL, item.get("end"), "end", nullable=True), str(schedule))
