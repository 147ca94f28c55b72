"""The bot's Prometheus series: names here are a contract the suite's queries rely on.

Every bot gets its own :class:`~prometheus_client.CollectorRegistry` (never the global
one), so several bots in one test process cannot collide, plus the process collector so
``process_resident_memory_bytes`` exists for memory checks. The filesystem gauges mimic
node-exporter's names for the pod's ``/data`` volume, read with ``statvfs`` at scrape time;
``FAULT_DISK_FREE_PERCENT`` replaces the available bytes to simulate disk pressure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Request-duration buckets (seconds): dense around the guide's 500 ms p95 budget, and
# around the bot's own 20-200 ms signal times, where the "2x the baseline" rule compares
# two p95s: a quantile read from buckets is known only to within its bucket, and the
# latency criteria decide only when the whole bucket lies on one side of the limit, so
# buckets as wide as the ratio they judge (0.025-0.05 s) would leave a 3x slow-down undecided.
DURATION_BUCKETS = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.09, 0.1, 0.125,
                    0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
INFERENCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
                     0.3, 0.5, 1.0, 2.0)
DATA_MOUNTPOINT = "/data"


class DataVolumeCollector(Collector):
    """``node_filesystem_{avail,size}_bytes{mountpoint="/data"}`` of the bot's data dir."""

    def __init__(self, data_dir: Path, free_percent_override: float | None) -> None:
        self.data_dir = data_dir
        self.free_percent_override = free_percent_override

    def collect(self) -> Iterator[GaugeMetricFamily]:
        st = os.statvfs(self.data_dir)
        size = float(st.f_blocks * st.f_frsize)
        avail = float(st.f_bavail * st.f_frsize)
        if self.free_percent_override is not None:
            avail = size * self.free_percent_override / 100.0
        for name, doc, value in (
            ("node_filesystem_avail_bytes", "Filesystem space available to non-root users.",
             avail),
            ("node_filesystem_size_bytes", "Filesystem size in bytes.", size),
        ):
            family = GaugeMetricFamily(name, doc, labels=["mountpoint"])
            family.add_metric([DATA_MOUNTPOINT], value)
            yield family


#: The trading API's route templates, pre-declared so their series exist from start.
API_ROUTES = (("/api/v1/signal", "GET"), ("/api/v1/orders", "POST"), ("/api/v1/orders/{order_id}", "GET"))
SIGNALS = ("BUY", "SELL", "HOLD")
SIDES = ("BUY", "SELL")
#: Reject reasons of the bot's own risk check, pre-declared like the 5xx series.
REJECT_REASONS = ("position_limit",)


class BotMetrics:
    """All series of one bot process, registered on a private registry."""

    def __init__(self, *, version: str, model_version: str, data_dir: Path,
                 disk_free_percent: float | None, symbols: tuple[str, ...] = ("XAUUSD",)) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        r.register(DataVolumeCollector(data_dir, disk_free_percent))
        self.requests = Counter("http_requests_total", "HTTP requests by route template, "
                                "method and status code.", ["route", "method", "code"],
                                registry=r)
        self.duration = Histogram("http_request_duration_seconds", "Server-side HTTP request "
                                  "duration.", ["route", "method"], buckets=DURATION_BUCKETS,
                                  registry=r)
        self.trades = Counter("trades_executed_total", "Paper orders filled (the decision "
                              "loop's fills and clients' orders).", ["symbol", "side"], registry=r)
        self.pnl = Gauge("pnl_usd", "Mark-to-market P&L of the paper book in USD.", registry=r)
        self.inference = Histogram("model_inference_seconds", "Signal model inference time.",
                                   buckets=INFERENCE_BUCKETS, registry=r)
        self.broker_connected = Gauge("broker_connected", "1 when the (paper) broker session "
                                      "is up.", registry=r)
        self.ready = Gauge("bot_ready", "1 when the bot reports ready.", registry=r)
        self.build_info = Gauge("bot_build_info", "Running version and model; always 1.",
                                ["version", "model"], registry=r)
        self.feature_enabled = Gauge("bot_feature_enabled", "1 while the feature's flag is on, as "
                                     "this pod last evaluated it (0 off).", ["feature"], registry=r)
        self.flag_variants = Counter("bot_flag_variant_requests_total", "Signal requests by the A/B "
                                     "flag's variant this pod answered them with.", ["flag", "variant"],
                                     registry=r)
        self._trading_series(r, symbols)
        self.broker_connected.set(1)
        self.build_info.labels(version=version, model=model_version).set(1)
        # Series that exist from the first scrape: Prometheus' increase() cannot see the
        # first 5xx of a series born inside its window, and rare errors are the ones that
        # matter for the 1 % rule.
        for route, method in API_ROUTES:
            for code in ("200", "201", "500"):
                if (method, code) != ("GET", "201"):
                    self.requests.labels(route=route, method=method, code=code)
            self.duration.labels(route=route, method=method)
        for side in ("BUY", "SELL"):
            self.trades.labels(symbol="XAUUSD", side=side)

    def _trading_series(self, r: CollectorRegistry, symbols: tuple[str, ...]) -> None:
        """The trading canary's series (decision loop, orders, kill switch)."""
        self.trading_bars = Counter("trading_bars", "Market bars the bot decided on.",
                                    ["symbol"], registry=r)
        self.trading_signals = Counter("trading_signals", "Decisions by signal.",
                                       ["symbol", "signal"], registry=r)
        self.trading_orders = Counter("trading_orders", "Orders placed (rejected ones "
                                      "included; client orders too).", ["symbol", "side"],
                                      registry=r)
        self.trading_fills = Counter("trading_fills", "Orders filled.", ["symbol", "side"],
                                     registry=r)
        self.trading_rejects = Counter("trading_order_rejects", "Orders the bot's own risk "
                                       "limits rejected, by reason.", ["symbol", "reason"],
                                       registry=r)
        self.trading_position = Gauge("trading_position_lots", "Signed net position in lots.",
                                      ["symbol"], registry=r)
        self.trading_open_orders = Gauge("trading_open_orders", "Orders resting now.",
                                         registry=r)
        self.trading_halted = Gauge("trading_halted", "1 while the kill switch is on.",
                                    registry=r)
        self.feed_errors = Counter("trading_feed_errors", "Polls of the market feed that got "
                                   "no usable answer (no decision on that bar).", registry=r)
        self.market_open = Gauge("trading_market_open", "1 while the market feed has an "
                                 "open session.", registry=r)
        self.market_open.set(1)
        for symbol in symbols:
            self.trading_bars.labels(symbol=symbol)
            self.trading_position.labels(symbol=symbol).set(0)
            for signal in SIGNALS:
                self.trading_signals.labels(symbol=symbol, signal=signal)
            for side in SIDES:
                self.trading_orders.labels(symbol=symbol, side=side)
                self.trading_fills.labels(symbol=symbol, side=side)
            for reason in REJECT_REASONS:
                self.trading_rejects.labels(symbol=symbol, reason=reason)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, code=str(status)).inc()
        self.duration.labels(route=route, method=method).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
