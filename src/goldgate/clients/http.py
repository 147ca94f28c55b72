"""One bounded HTTP exchange: connect and read timeouts, retries only where repeating is safe.

Every HTTP caller of goldgate (the bot's API, Prometheus, the secret stores) uses the same
rules, so a blackholed endpoint costs at most ``(retries + 1) * (connect + read)`` seconds
plus the backoff, and a failure is named the same way everywhere (:func:`describe`): words
an operator recognises, never a stack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from goldgate.clients.settings import Timeouts

#: Methods a connection failure may repeat: asking again changes nothing on the server.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


def describe(exc: requests.RequestException) -> str:
    """Name the cause in words an operator recognises, without the stack."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "read timeout (connected, no answer)"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "Connection refused" in text:
            return "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "host name does not resolve"
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return "connection closed without an answer"
        return "connection failed"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    return type(exc).__name__


@dataclass(frozen=True)
class Exchange:
    """What one bounded request produced: the response, or why there is none, after ``attempts``."""

    response: requests.Response | None
    elapsed_ms: float | None
    error: str | None
    attempts: int


def send(session: requests.Session, method: str, url: str, timeouts: Timeouts, **kwargs: Any) -> Exchange:
    """``session.request`` under the environment's timeouts; idempotent methods retried on failure.

    ``kwargs`` go to :meth:`requests.Session.request` (``json``, ``params``, ``headers``,
    ``verify``, ``allow_redirects``). Only a transport failure is retried, never an answer.
    """
    method = method.upper()
    attempts = 1 + (timeouts.retries if method in IDEMPOTENT else 0)
    last_error = "not attempted"
    for attempt in range(1, attempts + 1):
        started = time.perf_counter()
        try:
            resp = session.request(method, url, timeout=(timeouts.connect_s, timeouts.read_s), **kwargs)
        except requests.RequestException as exc:
            last_error = describe(exc)
            if attempt < attempts:
                time.sleep(timeouts.backoff_s * attempt)
            continue
        return Exchange(resp, (time.perf_counter() - started) * 1000.0, None, attempt)
    return Exchange(None, None, last_error, attempts)
