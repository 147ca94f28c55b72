"""HTTP evidence source: one bounded request, described completely.

A probe never decides: it returns an :class:`HttpObservation` that says what was asked,
what came back and how long it took, or why nothing came back. The exchange itself is
:func:`goldgate.clients.http.send`: a connect and a read timeout on every call; only
idempotent methods are retried, a bounded number of times, so a blackholed endpoint costs
at most ``(retries + 1) * (connect + read)`` seconds.

Example::

    probe = HttpProbe("http://127.0.0.1:8080", Timeouts())
    obs = probe.get("/health")
    obs.status, obs.elapsed_ms, obs.error
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from goldgate.clients.http import IDEMPOTENT as IDEMPOTENT
from goldgate.clients.http import send
from goldgate.clients.settings import Timeouts
from goldgate.verdict import Evidence


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
        ex = send(self._session, method, url, self.timeouts, json=json_body, params=params, headers=self._headers,
                  verify=self._verify, allow_redirects=False)
        resp = ex.response
        if resp is None:
            return HttpObservation(method=method, url=url, error=ex.error, attempts=ex.attempts)
        return HttpObservation(
            method=method,
            url=resp.url or url,
            status=resp.status_code,
            elapsed_ms=ex.elapsed_ms,
            body=resp.text,
            headers={k.lower(): v for k, v in resp.headers.items()},
            attempts=ex.attempts,
        )

    def get(self, path: str, **kw: Any) -> HttpObservation:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any, **kw: Any) -> HttpObservation:
        return self.request("POST", path, json_body=json_body, **kw)

    def close(self) -> None:
        self._session.close()
