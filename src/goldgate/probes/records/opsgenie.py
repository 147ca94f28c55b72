"""On-call from Opsgenie: the final timelines of the primary and the secondary schedule.

Documented call of the Schedule API, "Get schedule timeline"
(``GET /v2/schedules/:identifier/timeline?identifierType=id&interval=N&intervalUnit=days&date=``):
``data.finalTimeline.rotations[].periods[]`` with ``startDate``, ``endDate`` and
``recipient`` - who is on call over a range, where "Who is on call" (``/on-calls``) only
answers for one instant. The primary schedule is level 1, the secondary level 2. The
timeline is one answer per schedule (not paged).

Read with ``requests`` on the shared bounded reader: Opsgenie has no maintained Python
client. Its generated SDK, ``opsgenie-sdk``, has had no release since 2.1.5 (August 2021;
checked on PyPI 2026-12-06) and Opsgenie itself is past its end of sale at Atlassian; the
reader's one GET per schedule needs nothing it would add.
Token: an API key of an integration with read access only (``Authorization: GenieKey ...``).
"""

from __future__ import annotations

import datetime as dt
import math

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need, timestamp
from goldgate.probes.records.facts import OnCallEntry, OnCallRecord

PROVIDER = "Opsgenie"


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {token}"}


def read_on_call(client: RecordClient, primary: str, secondary: str, since: dt.datetime,
                 until: dt.datetime) -> OnCallRecord:
    entries: list[OnCallEntry] = []
    for level, schedule in ((1, primary), (2, secondary)):
        entries += _timeline(client, schedule, level, since, until)
    return OnCallRecord(PROVIDER, f"schedules {primary} (primary), {secondary} (secondary)", tuple(entries),
                        client.url("v2/schedules"))


def _timeline(client: RecordClient, schedule: str, level: int, since: dt.datetime,
              until: dt.datetime) -> list[OnCallEntry]:
    call = f"GET /v2/schedules/{schedule}/timeline"
    days = max(1, math.ceil((until - since).total_seconds() / 86400))
    body = need(PROVIDER, call, client.get(call, f"v2/schedules/{schedule}/timeline", {
        "identifierType": "id", "interval": days, "intervalUnit": "days",
        "date": since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}).body, dict, "the answer")
    data = need(PROVIDER, call, body.get("data"), dict, "data")
    final = need(PROVIDER, call, data.get("finalTimeline"), dict, "data.finalTimeline")
    out = []
    for rotation in need(PROVIDER, call, final.get("rotations", []), list, "rotations"):
        rotation = need(PROVIDER, call, rotation, dict, "a rotation")
        for period in need(PROVIDER, call, rotation.get("periods", []), list, "periods"):
            period = need(PROVIDER, call, period, dict, "a period")
            recipient = period.get("recipient")
            if not isinstance(recipient, dict) or not (recipient.get("name") or recipient.get("id")):
                raise RecordUnavailable(PROVIDER, call, "malformed body: a period without recipient")
            out.append(OnCallEntry(str(recipient.get("name") or recipient["id"]), level,
                                   timestamp(PROVIDER, call, period.get("startDate"), "startDate"),
                                   timestamp(PROVIDER, call, period.get("endDate"), "endDate"), schedule))
    return out
