"""The decision loop: an asyncio task that wakes at every bar boundary, reads the new bar of
each traded symbol, asks the model and hands the decision to the trading desk.

It must stay cheap (several bots share two cores at two bars a second) and must never
delay ``/api/v1/signal``: the per-bar work is arithmetic on the event loop, the database
write of the bar's fills runs in the threadpool, and a feed that does not answer costs one
short timeout. Every failure is logged and counted, and the loop carries on with the next
bar — a bot without market data makes no decisions, it does not crash.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from goldgate.sandbox.bot import model
from goldgate.sandbox.bot.feed import Feed, FeedUnavailableError
from goldgate.sandbox.bot.metrics import BotMetrics
from goldgate.sandbox.bot.trading import PaperOrder, TradingDesk

log = logging.getLogger("goldgate.bot")

#: Poll this long after the bar boundary, so the feed (same clock) has closed the bar.
POLL_LAG_S = 0.01


class DecisionLoop:
    def __init__(self, *, desk: TradingDesk, feed: Feed, symbols: tuple[str, ...],
                 model_version: str, metrics: BotMetrics,
                 store_fills: Callable[[list[PaperOrder]], None],
                 model_loaded: Callable[[], bool] = lambda: True) -> None:
        self.desk = desk
        self.feed = feed
        self.symbols = symbols
        self.model_version = model_version
        self.metrics = metrics
        self.store_fills = store_fills
        self.model_loaded = model_loaded
        self.last: dict[str, int | None] = dict.fromkeys(symbols)
        self._feed_down = False
        self._store_down = False
        self._market_open = True

    async def run(self) -> None:
        log.info("decision loop on %s, model %s, feed %s", ",".join(self.symbols),
                 self.model_version, getattr(self.feed, "url", "in-process"))
        try:
            while True:
                await self._sleep_to_next_bar()
                try:
                    await self.tick()
                except asyncio.CancelledError:
                    raise
                except Exception:  # one bad bar must not end trading for the process
                    log.exception("decision loop: bar failed")
        finally:
            await self.feed.close()

    async def _sleep_to_next_bar(self) -> None:
        bar_s = self.feed.bar_s
        now = time.time()
        edge = (math.floor(now / bar_s + 1e-9) + 1) * bar_s
        await asyncio.sleep(max(0.0, edge - now) + POLL_LAG_S)

    async def tick(self) -> None:
        """One round: every symbol's newest bar, if there is a new one (none while the model
        is still loading: a bot does not trade on a model it has not got)."""
        if not self.model_loaded():
            return
        fills: list[PaperOrder] = []
        for symbol in self.symbols:
            try:
                bar = await self.feed.newest(symbol, self.last[symbol])
            except FeedUnavailableError as exc:
                self.metrics.feed_errors.inc()
                if not self._feed_down:
                    log.warning("market feed unavailable, no decisions until it answers: %s", exc)
                    self._feed_down = True
                continue
            if self._feed_down:
                log.info("market feed answers again")
                self._feed_down = False
            self._note_session(getattr(self.feed, "open", True))
            if bar is None:
                continue
            self.last[symbol] = bar.index
            signal, confidence = model.signal_from_history(bar.closes, self.model_version)
            fills += self.desk.on_bar(bar, signal, confidence, time.time())
        if fills:
            await self._store(fills)

    async def _store(self, fills: list[PaperOrder]) -> None:
        """Write the bar's fills; a failing database (a read-only standby region, an outage)
        is logged once and on recovery, not on every bar: the book lives in memory, the
        table is its audit copy."""
        try:
            await run_in_threadpool(self.store_fills, fills)
        except Exception as exc:
            if not self._store_down:
                log.warning("storing fills failed, the decision loop keeps trading: %s", type(exc).__name__)
                self._store_down = True
            return
        if self._store_down:
            log.info("storing fills works again")
            self._store_down = False

    def _note_session(self, is_open: bool) -> None:
        if is_open != self._market_open:
            log.info("market %s", "open: deciding again" if is_open else "closed: no bars, no decisions")
            self._market_open = is_open
            self.metrics.market_open.set(1 if is_open else 0)

