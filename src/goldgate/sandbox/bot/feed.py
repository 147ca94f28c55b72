"""Where the decision loop gets its bars: the sandbox's market feed, or the same bars made here.

With ``MARKET_FEED_URL`` the bot polls the feed (timeout per request, a bounded number of
quick retries) and takes the bar period from its answers; an unreachable or garbled feed
raises :class:`FeedUnavailableError`, which the loop turns into "no decision this bar", a log
line and a metric — never a crash. Without the URL the bars come from the shared generator
in-process (always open), so a stand-alone bot decides on the very bars the feed would serve.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from goldgate.sandbox.market import bars

#: Per-request timeout: a bar is half a second in the sandbox, a late bar is a missed bar.
FEED_TIMEOUT_S = 0.4
FEED_RETRIES = 2
RETRY_PAUSE_S = 0.05


class FeedUnavailableError(Exception):
    """The feed did not answer usably after the retries; the message says how."""


class Feed(Protocol):
    bar_s: float

    async def newest(self, symbol: str, after: int | None) -> bars.Bar | None:
        """The newest complete bar after index ``after``; None when closed or none newer."""

    async def close(self) -> None:
        """Release connections."""


class LocalFeed:
    """The feed's bars computed in this process; the market is always open."""

    def __init__(self, seed: int, bar_s: float) -> None:
        self.seed = seed
        self.bar_s = bar_s

    async def newest(self, symbol: str, after: int | None) -> bars.Bar | None:
        k = bars.last_complete(time.time(), self.bar_s)
        if after is not None and k <= after:
            return None
        return bars.bar_at(self.seed, symbol, k, self.bar_s)

    async def close(self) -> None:
        return None


class HttpFeed:
    """The sandbox's market feed (:mod:`goldgate.sandbox.market.server`).

    Plain ``urllib`` in a worker thread: one small GET per bar needs no HTTP client library
    (whose import would slow every bot's start), and the event loop never waits on it.
    """

    def __init__(self, url: str, bar_s: float, *, timeout_s: float = FEED_TIMEOUT_S,
                 retries: int = FEED_RETRIES) -> None:
        self.url = url.rstrip("/")
        self.bar_s = bar_s
        self.retries = retries
        self.timeout_s = timeout_s
        self.open = True

    def _get(self, query: str) -> tuple[int, Any]:
        request = urllib.request.Request(f"{self.url}/v1/bars?{query}")  # noqa: S310 - the configured feed
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, None

    async def newest(self, symbol: str, after: int | None) -> bars.Bar | None:
        params = {"symbol": symbol} if after is None else {"symbol": symbol, "after": str(after)}
        query = urllib.parse.urlencode(params)
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(RETRY_PAUSE_S)
            try:
                status, body = await asyncio.to_thread(self._get, query)
            except (OSError, ValueError) as exc:  # refused, timed out, reset, not JSON
                last = type(exc).__name__
                continue
            if status != 200:
                last = f"HTTP {status}"
                if status < 500:
                    break  # a 4xx will not change on retry
                continue
            try:
                self.bar_s = float(body["bar_s"])
                self.open = bool(body["open"])
                raw = body["bar"]
                return None if raw is None else bars.Bar.from_dict(raw)
            except (ValueError, KeyError, TypeError) as exc:
                raise FeedUnavailableError(f"{self.url}: malformed answer ({exc})") from None
        raise FeedUnavailableError(f"{self.url}: {last}")

    async def close(self) -> None:
        return None


def make_feed(url: str | None, seed: int, bar_s: float) -> Feed:
    return HttpFeed(url, bar_s) if url else LocalFeed(seed, bar_s)
