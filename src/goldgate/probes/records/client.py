"""One bounded HTTP reader shared by the record providers.

Every provider speaks JSON over HTTPS and fails the same ways: a token that is wrong or
lacks a permission (401/403), a service that is down (5xx), a rate limit (429 with
``Retry-After``) and, now and then, a body that is not what the documentation shows. The
reader bounds each call (timeout), retries what can heal (429, 5xx, connection errors) a
bounded number of times, honours ``Retry-After`` only while it fits the probe's overall
budget, and turns everything else into one :class:`RecordUnavailable` naming the provider
and the call, so the step reports ERROR and never PASS. The token is sent as a header and
never appears in a message.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

__all__ = ["RecordClient", "RecordUnavailable", "Refusal", "Reply"]

T = TypeVar("T")

RETRYABLE = {429, 500, 502, 503, 504}


class RecordUnavailable(Exception):  # noqa: N818 - reads as the condition
    """A record system that could not answer; the message names provider, call and cause."""

    def __init__(self, provider: str, call: str, cause: str) -> None:
        super().__init__(f"{provider} {call}: {cause}")
        self.provider, self.call, self.cause = provider, call, cause


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]
    url: str


@dataclass(frozen=True)
class Refusal:
    """What a provider's own client raised, in the reader's terms.

    ``status`` is the HTTP status (None: no answer at all - connection refused, timed out);
    ``retry_after`` the raw ``Retry-After`` header of a 429; ``where`` the URL without query.
    """

    status: int | None
    retry_after: str | None = None
    where: str = ""
    detail: str = ""


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RecordClient:
    """GET JSON from one provider within ``timeout_s`` per call and ``budget_s`` overall."""

    provider: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    timeout_s: float = 10.0
    retries: int = 2
    budget_s: float = 30.0
    backoff_s: float = 0.2
    # TLS trust: True for the system's, or a CA bundle (PEM path) for a service behind a private CA.
    verify: bool | str = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _deadline: float | None = None
    _session: requests.Session | None = None

    def _remaining(self) -> float:
        if self._deadline is None:
            self._deadline = self.clock() + self.budget_s
        return self._deadline - self.clock()

    def call_timeout_s(self) -> float:
        """The timeout of the next call: ``timeout_s``, cut to what is left of the budget."""
        return max(0.001, min(self.timeout_s, self._remaining()))

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def get(self, call: str, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        """The JSON answer of ``GET path``; ``call`` names the API call in any error."""
        url = self.url(path)
        session = self._session or requests.Session()
        self._session = session
        attempt = 0
        while True:
            left = self._remaining()
            if left <= 0:
                raise RecordUnavailable(self.provider, call, f"no answer within the probe's {self.budget_s:g} s")
            try:
                resp = session.get(url, params=params, headers=dict(self.headers), auth=self.auth,
                                   timeout=(min(self.timeout_s, left), min(self.timeout_s, left)),
                                   allow_redirects=False, verify=self.verify)
            except requests.RequestException as exc:
                if attempt < self.retries:
                    attempt += 1
                    self._pause(self.backoff_s * 2 ** (attempt - 1), call, "connection failed")
                    continue
                raise RecordUnavailable(self.provider, call,
                                        f"{type(exc).__name__} after {attempt + 1} attempts ({_safe(url)})") from None
            if resp.status_code in RETRYABLE and attempt < self.retries:
                attempt += 1
                wait = retry_after_s(resp.headers.get("Retry-After")) if resp.status_code == 429 else None
                self._pause(self.backoff_s * 2 ** (attempt - 1) if wait is None else wait, call,
                            f"HTTP {resp.status_code}")
                continue
            return self._reply(call, url, resp)

    def run(self, call: str, fn: Callable[[], T], refusal: Callable[[Exception], Refusal | None]) -> T:
        """``fn()`` - one call through a provider's own client - under the same bounds as :meth:`get`.

        The provider's client is built with its own retries off; ``refusal`` maps what it raises
        to a :class:`Refusal` (None: not a failure of the service, raised as it is). 429, 5xx and
        no answer are retried ``retries`` times, Retry-After honoured only within ``budget_s``;
        401/403 and the rest end as one :class:`RecordUnavailable` naming provider and call.
        """
        attempt = 0
        while True:
            if self._remaining() <= 0:
                raise RecordUnavailable(self.provider, call, f"no answer within the probe's {self.budget_s:g} s")
            try:
                return fn()
            except RecordUnavailable:
                raise
            except Exception as exc:  # classified by the provider's refusal()
                why = refusal(exc)
                if why is None:
                    raise
            retryable = why.status is None or why.status in RETRYABLE
            if retryable and attempt < self.retries:
                attempt += 1
                wait = retry_after_s(why.retry_after) if why.status == 429 else None
                self._pause(self.backoff_s * 2 ** (attempt - 1) if wait is None else wait, call,
                            "connection failed" if why.status is None else f"HTTP {why.status}")
                continue
            if why.status is None:
                raise RecordUnavailable(self.provider, call, f"{why.detail or 'no answer'} after {attempt + 1} "
                                        f"attempts ({_safe(why.where or self.base_url)})")
            self._refuse(call, why.status, why.where or self.base_url)
            raise RecordUnavailable(self.provider, call, f"{why.detail or 'unexpected answer'} ({_safe(why.where)})")

    def _refuse(self, call: str, code: int, url: str) -> None:
        """The error of a status that is not a usable answer (returns for 2xx/3xx)."""
        if code in (401, 403):
            raise RecordUnavailable(self.provider, call, f"HTTP {code}: the token was refused or lacks read "
                                    f"permission ({_safe(url)})")
        if code == 429:
            raise RecordUnavailable(self.provider, call, f"HTTP 429: still rate-limited after {self.retries} retries")
        if code >= 300:
            raise RecordUnavailable(self.provider, call, f"HTTP {code} ({_safe(url)})")

    def _pause(self, seconds: float, call: str, why: str) -> None:
        if seconds >= self._remaining():
            raise RecordUnavailable(self.provider, call, f"{why}; waiting {seconds:g} s more would exceed the "
                                    f"probe's {self.budget_s:g} s")
        self.sleep(seconds)

    def _reply(self, call: str, url: str, resp: requests.Response) -> Reply:
        code = resp.status_code
        self._refuse(call, code, url)
        try:
            body = resp.json()
        except ValueError:
            raise RecordUnavailable(self.provider, call, f"the body is not JSON ({_safe(url)})") from None
        return Reply(code, body, resp.headers, url)


def _safe(url: str) -> str:
    """The URL without its query (queries can carry ids a report need not show, never tokens here)."""
    return url.split("?", 1)[0]


def need(provider: str, call: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is of ``kind``, else the malformed-body error naming ``what``."""
    if not isinstance(value, kind):
        raise RecordUnavailable(provider, call, f"malformed body: {what} is {type(value).__name__}, "
                                f"not {getattr(kind, '__name__', kind)}")
    return value


def timestamp(provider: str, call: str, value: Any, what: str, *, nullable: bool = False) -> Any:
    """An ISO-8601 time with a zone (``Z`` accepted); a malformed one is the malformed-body error."""
    import datetime as dt

    if value is None and nullable:
        return None
    if isinstance(value, str):
        try:
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            t = None
        if t is not None and t.tzinfo is not None:
            return t
    raise RecordUnavailable(provider, call, f"malformed body: {what} {value!r} is not an ISO-8601 time with a zone")


def next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a Link header (RFC 8288), as GitHub and ServiceNow page their lists."""
    for part in header.split(","):
        bits = part.split(";")
        if len(bits) >= 2 and any(b.strip() == 'rel="next"' for b in bits[1:]):
            return bits[0].strip().strip("<>")
    return None
