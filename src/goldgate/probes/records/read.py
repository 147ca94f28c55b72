"""From the environment's ``records:`` section to facts: build each provider's bounded
client (secrets resolved through :mod:`goldgate.secrets`, so they are redacted everywhere)
and call its reader. The steps call these; nothing here decides. A provider module (and the
service's client library it brings) is imported only when the environment names it, so a
run without ``records:`` pays no import time for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldgate.probes.records import servicenow
from goldgate.probes.records.client import RecordClient
from goldgate.probes.records.facts import (
    ChangeRecord,
    NotificationRecord,
    OnCallRecord,
    ReviewRecord,
)
from goldgate.secrets import resolve_secret

__all__ = ["read_change", "read_notifications", "read_on_call", "read_reviews"]

# How far before the window a notification is looked for (a week of channel history).
LOOKBACK = dt.timedelta(days=7)


def _client(records: Any, provider: str, url: str, headers: dict[str, str],
            auth: tuple[str, str] | None = None) -> RecordClient:
    return RecordClient(provider, url, headers, auth, timeout_s=records.timeout_s, retries=records.retries,
                        budget_s=records.budget_s)


def _auth(src: Any) -> tuple[str | None, tuple[str, str] | None]:
    token = resolve_secret(src.token) if src.token else None
    auth = (src.user, resolve_secret(src.password)) if src.user and src.password else None
    if src.user and token and auth is None:
        auth = (src.user, token)  # Jira Cloud: e-mail + API token as basic auth
        token = None
    return token, auth


def read_reviews(records: Any, commit: str) -> ReviewRecord:
    src = records.code_review
    if src.provider == "github":
        from goldgate.probes.records import github

        client = _client(records, github.PROVIDER, src.url, github.headers(resolve_secret(src.token)))
        return github.read_reviews(client, src.repository, commit)
    from goldgate.probes.records import gitlab

    client = _client(records, gitlab.PROVIDER, f"{src.url.rstrip('/')}/api/v4", gitlab.headers(resolve_secret(src.token)))
    return gitlab.read_approvals(client, src.project, commit)


def read_on_call(records: Any, start: dt.datetime, end: dt.datetime) -> OnCallRecord:
    src = records.on_call
    if src.provider == "pagerduty":
        from goldgate.probes.records import pagerduty

        client = _client(records, pagerduty.PROVIDER, src.url, pagerduty.headers(resolve_secret(src.token)))
        return pagerduty.read_on_call(client, src.escalation_policy, start, end)
    from goldgate.probes.records import opsgenie

    client = _client(records, opsgenie.PROVIDER, src.url, opsgenie.headers(resolve_secret(src.token)))
    return opsgenie.read_on_call(client, src.schedule, src.secondary_schedule, start, end)


def _change_client(records: Any) -> tuple[Any, RecordClient]:
    src = records.change
    token, auth = _auth(src)
    if src.provider == "servicenow":
        return src, _client(records, servicenow.PROVIDER, src.url, servicenow.headers(token), auth)
    from goldgate.probes.records import jira

    return src, _client(records, jira.PROVIDER, src.url, jira.headers(token), auth)


def read_change(records: Any, number: str) -> ChangeRecord:
    src, client = _change_client(records)
    if src.provider == "servicenow":
        return servicenow.read_change(client, src, number)[0]
    from goldgate.probes.records import jira

    return jira.read_change(client, src, number)


def read_notifications(records: Any, window_start: dt.datetime, number: str = "") -> NotificationRecord:
    """Messages up to a day past the window's start (so a late one is seen and named)."""
    src = records.notification
    if src.provider == "slack":
        from goldgate.probes.records import slack

        client = _client(records, slack.PROVIDER, src.url, slack.headers(resolve_secret(src.token)))
        return slack.read_messages(client, src.channel, window_start - LOOKBACK, window_start + dt.timedelta(days=1))
    change, client = _change_client(records)
    if change.provider == "servicenow":
        _, sys_id = servicenow.read_change(client, change, number)
        return servicenow.read_work_notes(client, number, sys_id)
    from goldgate.probes.records import jira

    return jira.read_comments(client, number)
