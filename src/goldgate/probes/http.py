"""HTTP evidence source: one bounded request, described completely.

A probe never decides: it returns an :class:`HttpObservation` that says what was asked,
what came back and how long it took, or why nothing came back. Every call has a connect
and a read timeout; only idempotent methods are retried, a bounded number of times, so a
blackholed endpoint costs at most ``(retries + 1) * (connect + read)`` seconds.

Example::

    probe = HttpProbe("http://127.0.0.1:8080", Timeouts())
    obs = probe.get("/health")
    obs.status, obs.elapsed_ms, obs.error
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from goldgate.config import Timeouts
from goldgate.verdict import Evidence

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class HttpObservation:
    """What one request produced; ``error`` is set when there is no HTTP answer to judge."""

    method: str
    url: str
    status: int | None = None
    elapsed_ms: float | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 1

    @property
    def answered(self) -> bool:
        return self.error is None and self.status is not None

    def json(self) -> Any:
        """The body as JSON; raises ValueError naming the URL when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            snippet = self.body[:80].replace("\n", " ")
            raise ValueError(f"{self.method} {self.url}: answer is not JSON: {snippet!r}") from None

    def evidence(self) -> Evidence:
        details: dict[str, Any] = {"status": self.status, "attempts": self.attempts}
        if self.elapsed_ms is not None:
            details["elapsed_ms"] = round(self.elapsed_ms, 2)
        if self.error:
            details["error"] = self.error
        return Evidence(source="http", query=f"{self.method} {self.url}", samples=1 if self.answered else 0, details=details)


def _describe(exc: requests.RequestException) -> str:
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


class HttpProbe:
    """Requests against one base URL with the environment's timeouts and retry budget."""

    def __init__(
        self,
        base_url: str,
        timeouts: Timeouts,
        *,
        headers: dict[str, str] | None = None,
        verify_tls: bool = True,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self._headers = dict(headers or {})
        self._verify = verify_tls
        self._session = session or requests.Session()

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None) -> HttpObservation:
        method = method.upper()
        url = self.url(path)
        attempts = 1 + (self.timeouts.retries if method in IDEMPOTENT else 0)
        last_error = "not attempted"
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                resp = self._session.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers=self._headers,
                    timeout=(self.timeouts.connect_s, self.timeouts.read_s),
                    verify=self._verify,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                last_error = _describe(exc)
                if attempt < attempts:
                    time.sleep(self.timeouts.backoff_s * attempt)
                continue
            elapsed = (time.perf_counter() - started) * 1000.0
            return HttpObservation(
                method=method,
                url=resp.url or url,
                status=resp.status_code,
                elapsed_ms=elapsed,
                body=resp.text,
                headers={k.lower(): v for k, v in resp.headers.items()},
                attempts=attempt,
            )
        return HttpObservation(method=method, url=url, error=last_error, attempts=attempts)

    def get(self, path: str, **kw: Any) -> HttpObservation:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any, **kw: Any) -> HttpObservation:
        return self.request("POST", path, json_body=json_body, **kw)

    def close(self) -> None:
        self._session.close()
