"""On-call from PagerDuty: every on-call entry of the escalation policy over the window.

Documented call "List all of the on-calls" (``GET /oncalls`` with ``escalation_policy_ids[]``,
``since``, ``until``, paged by ``offset``/``limit``/``more``). Each entry carries the user,
the escalation level and its start/end (clipped to the asked range). Level 1 is the
primary, level 2 the secondary.

Read through ``pagerduty``'s ``RestApiV2Client``, PagerDuty's maintained Python client (the
successor of pdpyras, which is deprecated in its favour): base URL, API key header, per-call
timeout, and ``jget`` for each page. Its own retries cannot all be turned off by
configuration - a 429 is retried without limit on its own back-off, never reading
Retry-After - so the client here is a subclass whose ``postprocess`` hook (documented as the
place to extend per-response handling) hands every 429 back as an ``HttpError``, with
network retries (``max_network_attempts``) at 0 and no status retried; each page then runs
inside the shared reader's :meth:`~goldgate.probes.records.client.RecordClient.run`, so
PagerDuty is bounded by the same retry count and Retry-After budget as every provider.
Token: a read-only REST API key (``Authorization: Token token=...``).
"""

from __future__ import annotations

import datetime as dt
import ssl
from typing import Any

import pagerduty as pd

from goldgate.probes.records.client import RecordClient, RecordUnavailable, Refusal, need, timestamp
from goldgate.probes.records.facts import OnCallEntry, OnCallRecord

PROVIDER = "PagerDuty"
CALL = "GET /oncalls"
MAX_PAGES = 20
PAGE = 100


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"}


class _Client(pd.RestApiV2Client):
    """RestApiV2Client that leaves every 429 to the shared reader instead of retrying it itself."""

    def postprocess(self, response: Any, suffix: str | None = None) -> None:
        super().postprocess(response, suffix)
        if response.status_code == 429:
            raise pd.HttpError("rate limited (HTTP 429)", response)


def _pagerduty(client: RecordClient) -> _Client:
    key = str(client.headers.get("Authorization", "")).removeprefix("Token token=")
    # The client takes HTTPS only, and verifies with the reader's trust (a PEM path: a private CA).
    try:
        verify = ssl.create_default_context(cafile=client.verify) if isinstance(client.verify, str) else client.verify
    except (OSError, ssl.SSLError):
        raise RecordUnavailable(PROVIDER, CALL, f"the CA bundle {client.verify} cannot be read") from None
    try:
        pdc = _Client(key, base_url=client.base_url.rstrip("/"), verify=verify)
    except pd.UrlError:
        raise RecordUnavailable(PROVIDER, CALL, f"the client takes https:// URLs only, not {client.base_url}") from None
    pdc.timeout = client.timeout_s
    pdc.max_network_attempts = 0
    pdc.retry = {}
    return pdc


def _refusal(exc: Exception) -> Refusal | None:
    if isinstance(exc, pd.Error):
        resp = exc.response
        if resp is None:  # no answer: refused, unreachable, timed out
            cause = exc.__cause__
            return Refusal(None, detail=type(cause).__name__ if cause is not None else "no answer")
        where = str(resp.request.url) if resp.request is not None else ""
        if resp.is_success:  # a 2xx whose body the client could not decode
            return Refusal(200, where=where, detail="the body is not JSON")
        return Refusal(resp.status_code, resp.headers.get("Retry-After"), where)
    return None


def _page(client: RecordClient, pdc: _Client, params: dict[str, Any]) -> Any:
    pdc.timeout = client.call_timeout_s()  # never past the budget
    return pdc.jget("oncalls", params=params)


def read_on_call(client: RecordClient, policy: str, since: dt.datetime, until: dt.datetime) -> OnCallRecord:
    pdc = _pagerduty(client)
    entries: list[OnCallEntry] = []
    offset = 0
    for _ in range(MAX_PAGES):
        params = {"escalation_policy_ids[]": policy, "since": since.isoformat(), "until": until.isoformat(),
                  "time_zone": "UTC", "limit": PAGE, "offset": offset}
        body = need(PROVIDER, CALL, client.run(CALL, lambda p=params: _page(client, pdc, p), _refusal),
                    dict, "the answer")
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
