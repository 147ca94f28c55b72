"""The bounded reader every provider shares: a real Retry-After wait, its limits, and
connection failures, against a loopback server."""

from __future__ import annotations

import email.utils
import time

import pytest

from goldgate.probes.records.client import RecordClient, RecordUnavailable, retry_after_s
from tests.records.fake import rate_limited_once, serve


def test_retry_after_is_waited_for_real_before_the_retry() -> None:
    with serve(rate_limited_once(lambda p, q: (200, {}, {"ok": True}), "0.3")) as fake:
        client = RecordClient("Example", fake.url, timeout_s=2, retries=1, budget_s=5)
        began = time.monotonic()
        reply = client.get("GET /thing", "thing")
        waited = time.monotonic() - began
    assert reply.body == {"ok": True} and waited >= 0.3 and len(fake.requests) == 2


def test_retries_are_bounded() -> None:
    with serve(lambda p, q: (429, {"Retry-After": "0"}, {})) as fake:
        client = RecordClient("Example", fake.url, timeout_s=2, retries=2, budget_s=5, sleep=lambda s: None)
        with pytest.raises(RecordUnavailable, match=r"Example GET /thing: HTTP 429: still rate-limited after 2"):
            client.get("GET /thing", "thing")
    assert len(fake.requests) == 3


def test_a_refused_connection_is_an_error_naming_the_provider() -> None:
    with serve(lambda p, q: (200, {}, {})) as fake:
        url = fake.url
    client = RecordClient("Example", url, timeout_s=1, retries=1, budget_s=5, sleep=lambda s: None)
    with pytest.raises(RecordUnavailable, match=r"Example GET /thing: ConnectionError after 2 attempts"):
        client.get("GET /thing", "thing")


def test_retry_after_forms() -> None:
    assert retry_after_s("7") == 7.0 and retry_after_s(None) is None and retry_after_s("soon") is None
    later = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_s(later, now=1_000_000) == pytest.approx(30, abs=1)


def test_a_clients_call_timeout_never_runs_past_the_budget() -> None:
    now = [100.0]
    client = RecordClient("Example", "https://example.invalid", timeout_s=10, budget_s=30, clock=lambda: now[0])
    assert client.call_timeout_s() == 10
    now[0] += 26
    assert client.call_timeout_s() == 4
