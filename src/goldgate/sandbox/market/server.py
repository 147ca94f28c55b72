"""The market feed over HTTP: what the sandbox's bots read, and its open/close control.

Routes (JSON):

- ``GET /v1/bars?symbol=XAUUSD&after=<bar index>`` → ``{"open", "bar_s", "seed",
  "bar": {...} | null}``: the newest complete bar after ``after`` (null when the market is
  closed or no newer bar exists yet). A bar carries its index, ``bar_time``, OHLC and the
  closes the signal model reads (see :mod:`.bars`).
- ``GET /v1/market`` → ``{"open", "bar_s", "seed", "symbols", "sessions"}``.
- ``POST /v1/market/close`` and ``POST /v1/market/open`` → the same status plus
  ``changed``: closing stops bars from the one in progress on, opening resumes them.
- ``GET /health``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from goldgate.sandbox.market import bars
from goldgate.sandbox.market.sessions import Sessions


class Feed:
    """Seed, bar period and sessions of one feed; bars are computed on request."""

    def __init__(self, seed: int = bars.DEFAULT_SEED, bar_s: float = bars.DEFAULT_BAR_S,
                 *, closed: bool = False) -> None:
        self.seed = seed
        self.bar_s = bar_s
        self.sessions = Sessions(bar_s)
        self._cache: dict[tuple[str, int], bars.Bar] = {}
        if closed:
            self.sessions.close()

    def newest(self, symbol: str, after: int | None, now: float | None = None) -> bars.Bar | None:
        moment = time.time() if now is None else now
        k = self.sessions.newest_bar(bars.last_complete(moment, self.bar_s), after)
        if k is None:
            return None
        key = (symbol, k)
        found = self._cache.get(key)
        if found is None:  # every bot asks for the same bar: compute it once
            found = bars.bar_at(self.seed, symbol, k, self.bar_s)
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = found
        return found

    def status(self) -> dict[str, Any]:
        return {"open": self.sessions.is_open, "bar_s": self.bar_s, "seed": self.seed,
                "symbols": sorted(bars.SYMBOLS), "sessions": self.sessions.as_list()}


def _feed(request: Request) -> Feed:
    return request.app.state.feed


def _bad(message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=400)


async def get_bars(request: Request) -> JSONResponse:
    feed = _feed(request)
    symbol = request.query_params.get("symbol", "").strip().upper()
    if symbol not in bars.SYMBOLS:
        return _bad("unknown or missing symbol", parameter="symbol", supported=sorted(bars.SYMBOLS))
    raw_after = request.query_params.get("after", "").strip()
    after: int | None = None
    if raw_after:
        try:
            after = int(raw_after)
        except ValueError:
            return _bad("after must be a bar index (integer)", parameter="after", value=raw_after)
    bar = feed.newest(symbol, after)
    return JSONResponse({"open": feed.sessions.is_open, "bar_s": feed.bar_s, "seed": feed.seed,
                         "bar": bar.as_dict() if bar is not None else None})


async def market(request: Request) -> JSONResponse:
    return JSONResponse(_feed(request).status())


async def close(request: Request) -> JSONResponse:
    feed = _feed(request)
    changed = feed.sessions.close()
    return JSONResponse({**feed.status(), "changed": changed})


async def open_(request: Request) -> JSONResponse:
    feed = _feed(request)
    changed = feed.sessions.open()
    return JSONResponse({**feed.status(), "changed": changed})


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def build_app(feed: Feed) -> Starlette:
    app = Starlette(routes=[
        Route("/health", health, methods=["GET"]),
        Route("/v1/bars", get_bars, methods=["GET"]),
        Route("/v1/market", market, methods=["GET"]),
        Route("/v1/market/close", close, methods=["POST"]),
        Route("/v1/market/open", open_, methods=["POST"]),
    ])
    app.state.feed = feed
    return app
