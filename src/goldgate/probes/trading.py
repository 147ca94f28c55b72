"""Trading evidence source: what each pod of a track decided, ordered, filled and holds.

A trading bot decides on its own, every bar of the market, without a client asking; the
release is judged on those decisions (guide §8.2 trades and P&L). Each pod exposes its
decision record (``trading.decisions_path``, names from the environment's ``trading:``
section) and its kill-switch state; this module reads the record of every pod a selector
names - the canary's, the stable version's - and keeps what it read across the
evaluations of a phase, so every evaluation sees "everything since the phase began".

Reading is incremental: each pod is asked only for decisions after the last bars it
already answered (``?since=<bar_time>``), re-reading a few bars so that an order that
was still open is seen again once it filled or expired. Every request has the run's
connect and read timeouts and a bounded number of retries (a GET is idempotent; a 5xx
of an error burst is retried too). A pod that cannot be read leaves its error in the
reading: the evaluation then cannot measure that track (ERROR), it never guesses.

Nothing here decides: :mod:`goldgate.rollout.trading_monitor` hands the readings to the
trading criteria.

Examples::

    source = TradingRecordSource(env.trading, env.timeouts, discovery)
    window = source.start(Selector({"app": "trading-bot", "track": "canary"}, "trading"))
    reading = window.read()            # one more read of every canary pod
    reading.decisions, reading.pnl_usd, reading.errors
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from goldgate.config import Timeouts, TradingFields, TradingSettings
from goldgate.probes.http import HttpObservation, HttpProbe
from goldgate.probes.metrics.base import Selector
from goldgate.verdict import Evidence

__all__ = [
    "BarDecision",
    "PlacedOrder",
    "PodEndpoint",
    "PodTrading",
    "RecordUnreadable",
    "TrackReading",
    "TrackWindow",
    "TradingRecordSource",
    "endpoints_from_targets",
    "parse_decisions",
    "parse_time",
    "since_text",
]

#: Bars re-read on every read: an order placed on one of them may have filled or expired since.
REREAD_BARS = 8


class RecordUnreadable(ValueError):  # noqa: N818 - reads as what happened
    """An answer of the decision record that does not have the configured shape."""


@dataclass(frozen=True)
class PlacedOrder:
    """One order as the record shows it (paper or real; volume in lots)."""

    order_id: str
    side: str
    volume: float
    limit_price: float | None
    status: str
    fill_price: float | None
    reject_reason: str | None
    placed_at: float
    mid: float | None
    pod: str = ""


@dataclass(frozen=True)
class BarDecision:
    """What one pod decided on one bar of one symbol, with the orders it placed."""

    bar_time: float
    bar_label: str
    symbol: str
    signal: str
    model_version: str
    mid: float | None
    orders: tuple[PlacedOrder, ...]
    pod: str = ""


@dataclass(frozen=True)
class PodEndpoint:
    """Where one pod's HTTP API is reachable (its own address, never the Service's)."""

    pod: str
    base_url: str


@dataclass
class PodTrading:
    """One pod's record as read so far: decisions by (bar, symbol), its state now."""

    pod: str
    base_url: str
    decisions: dict[tuple[str, str], BarDecision] = field(default_factory=dict)
    cursor: str | None = None
    halted: bool | None = None
    position: dict[str, float] = field(default_factory=dict)
    pnl_usd: float | None = None
    open_orders: int | None = None
    version: str = ""
    reads: int = 0
    error: str = ""


@dataclass(frozen=True)
class TrackReading:
    """Every pod of one track after one read: merged decisions, P&L series, errors."""

    track: str
    selector: str
    pods: tuple[str, ...]
    decisions: tuple[BarDecision, ...]
    pnl_usd: float | None
    pnl_series: tuple[tuple[float, float], ...]
    position: Mapping[str, float]
    open_orders: int | None
    halted: Mapping[str, bool | None]
    versions: Mapping[str, str]
    errors: Mapping[str, str]
    elapsed_s: float
    urls: tuple[str, ...] = ()

    @property
    def orders(self) -> tuple[PlacedOrder, ...]:
        return tuple(o for d in self.decisions for o in d.orders)

    @property
    def bars(self) -> int:
        """Bar decisions of every pod (a bar decided by two pods counts twice)."""
        return len(self.decisions)

    def evidence(self) -> Evidence:
        return Evidence(
            "decision record", f"{self.track}: {self.selector}", round(self.elapsed_s, 1), len(self.decisions),
            {"pods": list(self.pods), "urls": list(self.urls), "orders": len(self.orders),
             "pnl_usd": self.pnl_usd, "position": dict(self.position), "open_orders": self.open_orders,
             "versions": dict(self.versions), **({"errors": dict(self.errors)} if self.errors else {})})


class EndpointDiscovery(Protocol):
    """Finds the pods a selector names and how to reach each."""

    def __call__(self, selector: Selector) -> list[PodEndpoint]: ...


def endpoints_from_targets(discovery: Any) -> EndpointDiscovery:
    """Pod endpoints from a metric target discovery (each pod's own address and port).

    The scrape source's :class:`~goldgate.probes.metrics.scrape.KubernetesTargets` already
    knows how to reach every Running pod (pod IP and metrics port, or the port map a
    shared-address cluster publishes); the bot serves its API on the same port.
    """

    def _endpoints(selector: Selector) -> list[PodEndpoint]:
        out = []
        for t in discovery.targets(selector):
            parts = urlsplit(t.url)
            out.append(PodEndpoint(t.labels.get("pod") or t.key, urlunsplit((parts.scheme, parts.netloc, "", "", ""))))
        return sorted(out, key=lambda e: e.pod)

    return _endpoints


# ----------------------------------------------------------------------------- parsing
def parse_time(value: Any, where: str) -> float:
    """Epoch seconds from an ISO 8601 text (``Z`` allowed) or a number of epoch seconds."""
    if isinstance(value, bool):
        raise RecordUnreadable(f"{where}: expected a time, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise RecordUnreadable(f"{where}: not a finite time: {value!r}")
        return float(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise RecordUnreadable(f"{where}: not an ISO 8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    raise RecordUnreadable(f"{where}: expected a time, got {type(value).__name__}")


def _number(value: Any, where: str, *, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RecordUnreadable(f"{where}: expected a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise RecordUnreadable(f"{where}: expected a number, got {value!r}") from None


def _text(item: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = item.get(name)
    if value is None:
        if required:
            raise RecordUnreadable(f"{where}: field {name!r} missing")
        return ""
    return str(value)


def parse_decisions(body: Any, fields: TradingFields, *, pod: str = "", where: str = "") -> list[BarDecision]:
    """The decisions of one answer of the record, read through the configured field names.

    Raises :class:`RecordUnreadable` naming the decision and field that does not fit.
    """
    if not isinstance(body, Mapping):
        raise RecordUnreadable(f"{where}: expected a JSON object, got {type(body).__name__}")
    items = body.get(fields.decisions)
    if not isinstance(items, list):
        raise RecordUnreadable(f"{where}: field {fields.decisions!r} missing or not a list")
    out = []
    for i, item in enumerate(items):
        at = f"{where} {fields.decisions}[{i}]"
        if not isinstance(item, Mapping):
            raise RecordUnreadable(f"{at}: expected an object")
        raw_time = item.get(fields.bar_time)
        if raw_time is None:
            raise RecordUnreadable(f"{at}: field {fields.bar_time!r} missing")
        bar_time = parse_time(raw_time, f"{at}.{fields.bar_time}")
        mid = _number(item.get(fields.mid), f"{at}.{fields.mid}")
        raw_orders = item.get(fields.orders) or []
        if not isinstance(raw_orders, list):
            raise RecordUnreadable(f"{at}.{fields.orders}: expected a list")
        orders = []
        for j, o in enumerate(raw_orders):
            oat = f"{at}.{fields.orders}[{j}]"
            if not isinstance(o, Mapping):
                raise RecordUnreadable(f"{oat}: expected an object")
            volume = _number(o.get(fields.volume), f"{oat}.{fields.volume}", optional=False)
            placed = o.get(fields.placed_at)
            orders.append(PlacedOrder(
                order_id=_text(o, fields.order_id, oat), side=_text(o, fields.side, oat).upper(),
                volume=float(volume or 0.0),
                limit_price=_number(o.get(fields.limit_price), f"{oat}.{fields.limit_price}"),
                status=_text(o, fields.status, oat).lower(),
                fill_price=_number(o.get(fields.fill_price), f"{oat}.{fields.fill_price}"),
                reject_reason=_text(o, fields.reject_reason, oat, required=False) or None,
                placed_at=parse_time(placed, f"{oat}.{fields.placed_at}") if placed is not None else bar_time,
                mid=mid, pod=pod))
        out.append(BarDecision(
            bar_time=bar_time, bar_label=str(raw_time), symbol=_text(item, fields.symbol, at),
            signal=_text(item, fields.signal, at).upper(),
            model_version=_text(item, fields.model_version, at, required=False),
            mid=mid, orders=tuple(orders), pod=pod))
    return out


def _position(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecordUnreadable(f"{where}: expected an object of symbol -> lots")
    return {str(k): float(_number(v, f"{where}.{k}", optional=False) or 0.0) for k, v in value.items()}


# ----------------------------------------------------------------------------- reading
class TradingRecordSource:
    """The decision records of a team's bot, reached pod by pod.

    ``endpoints`` finds the pods of a selection (see :func:`endpoints_from_targets`);
    ``settings`` names the record's path, parameters and fields; ``timeouts`` bound every
    request (connect, read, retries with backoff).
    """

    name = "decision record"

    def __init__(self, settings: TradingSettings, timeouts: Timeouts, endpoints: EndpointDiscovery, *,
                 headers: Mapping[str, str] | None = None, verify_tls: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.timeouts = timeouts
        self.endpoints = endpoints
        self._headers = dict(headers or {})
        self._verify = verify_tls
        self._clock = clock

    def probe(self, base_url: str) -> HttpProbe:
        return HttpProbe(base_url, self.timeouts, headers=self._headers, verify_tls=self._verify)

    def get_json(self, base_url: str, path: str, params: Mapping[str, Any] | None = None) -> tuple[Any, HttpObservation]:
        """GET with the bounded retries of an idempotent read, 5xx included; raises
        :class:`RecordUnreadable` naming the URL and the cause when no usable answer came."""
        probe = self.probe(base_url)
        try:
            obs: HttpObservation | None = None
            for attempt in range(self.timeouts.retries + 1):
                obs = probe.get(path, params=dict(params or {}))
                if obs.answered and obs.status is not None and obs.status < 500:
                    break
                if attempt < self.timeouts.retries:
                    time.sleep(self.timeouts.backoff_s * (attempt + 1))
            assert obs is not None
        finally:
            probe.close()
        if not obs.answered:
            raise RecordUnreadable(f"GET {obs.url}: {obs.error}")
        if obs.status != 200:
            raise RecordUnreadable(f"GET {obs.url}: HTTP {obs.status}: {obs.body[:120]!r}")
        try:
            return obs.json(), obs
        except ValueError as exc:
            raise RecordUnreadable(str(exc)) from None

    def start(self, selector: Selector, track: str = "") -> TrackWindow:
        """A window over the selected pods' records from now on (earlier bars are not read)."""
        window = TrackWindow(self, selector, track or selector.label_selector(), self._clock)
        return window


class TrackWindow:
    """One track's records since the window opened; :meth:`read` takes one more reading."""

    def __init__(self, source: TradingRecordSource, selector: Selector, track: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.selector = selector
        self.track = track
        self._clock = clock
        self._opened = clock()
        self.opened_wall = time.time()
        self._since = since_text(source.settings, self.opened_wall)
        self.pods: dict[str, PodTrading] = {}
        self.pnl_series: list[tuple[float, float]] = []
        self.last: TrackReading | None = None

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self._opened

    def cursor(self) -> dict[str, Any]:
        """Where this window reads from (its opening time) and the P&L it has seen: what a
        restarted judge needs to read the same record again, no bar skipped."""
        return {"opened_wall": self.opened_wall, "pnl_series": [list(p) for p in self.pnl_series]}

    def resume(self, opened_wall: float, pnl_series: Sequence[tuple[float, float]]) -> None:
        """Read from an earlier opening (before any :meth:`read`): bars since then are read again."""
        self._opened -= max(0.0, self.opened_wall - opened_wall)
        self.opened_wall = opened_wall
        self._since = since_text(self.source.settings, opened_wall)
        self.pnl_series = [(float(t), float(v)) for t, v in pnl_series]

    def read(self) -> TrackReading:
        """Read every selected pod's record once more (new bars and the last few again)."""
        errors: dict[str, str] = {}
        try:
            endpoints = self.source.endpoints(self.selector)
        except Exception as exc:  # discovery is the Kubernetes API: say why, never raise
            errors["(discovery)"] = f"cannot list the pods of {self.selector.label_selector()}: {exc}"
            endpoints = []
        for ep in endpoints:
            pod = self.pods.setdefault(ep.pod, PodTrading(ep.pod, ep.base_url, cursor=self._since))
            pod.base_url = ep.base_url
            try:
                self._read_pod(pod)
                pod.error = ""
            except RecordUnreadable as exc:
                pod.error = str(exc)
                errors[ep.pod] = pod.error
        live = {ep.pod for ep in endpoints}
        pnl_values = [p.pnl_usd for p in self.pods.values() if p.pod in live and p.pnl_usd is not None]
        pnl = sum(pnl_values) if pnl_values and len(pnl_values) == len(live) else None
        if pnl is not None:
            self.pnl_series.append((round(time.time(), 3), pnl))
        position: dict[str, float] = {}
        for p in self.pods.values():
            if p.pod in live:
                for sym, lots in p.position.items():
                    position[sym] = position.get(sym, 0.0) + lots
        opens = [p.open_orders for p in self.pods.values() if p.pod in live]
        decisions = sorted((d for p in self.pods.values() for d in p.decisions.values()),
                           key=lambda d: (d.bar_time, d.symbol, d.pod))
        self.last = TrackReading(
            track=self.track, selector=self.selector.label_selector(), pods=tuple(sorted(live)),
            decisions=tuple(decisions), pnl_usd=pnl, pnl_series=tuple(self.pnl_series), position=position,
            open_orders=sum(o for o in opens if o is not None) if opens and None not in opens else None,
            halted={p.pod: p.halted for p in self.pods.values() if p.pod in live},
            versions={p.pod: p.version for p in self.pods.values() if p.pod in live},
            errors=errors, elapsed_s=self.elapsed_s,
            urls=tuple(p.base_url + self.source.settings.decisions_path for p in self.pods.values() if p.pod in live))
        return self.last

    def _read_pod(self, pod: PodTrading) -> None:
        s = self.source.settings
        f = s.fields
        for _page in range(s.max_pages):
            params = {s.limit_param: s.page_size}
            if pod.cursor:
                params[s.since_param] = pod.cursor
            body, obs = self.source.get_json(pod.base_url, s.decisions_path, params)
            page = parse_decisions(body, f, pod=pod.pod, where=f"GET {obs.url}")
            for d in page:
                if d.bar_time >= self.opened_wall - 1e-6 or (d.bar_label, d.symbol) in pod.decisions:
                    pod.decisions[(d.bar_label, d.symbol)] = d
            pod.halted = bool(body.get(f.halted)) if f.halted in body else pod.halted
            pod.position = _position(body.get(f.position), f"GET {obs.url} {f.position}") or pod.position
            pnl = _number(body.get(f.pnl), f"GET {obs.url} {f.pnl}")
            pod.pnl_usd = pnl if pnl is not None and math.isfinite(pnl) else pod.pnl_usd
            opens = body.get(f.open_orders)
            pod.open_orders = int(opens) if isinstance(opens, int | float) and not isinstance(opens, bool) \
                else pod.open_orders
            pod.version = str(body.get("version") or pod.version)
            pod.reads += 1
            if len(page) < s.page_size:
                break
            pod.cursor = page[-1].bar_label
        labels = sorted({(d.bar_time, d.bar_label) for d in pod.decisions.values()})
        if labels:  # re-read the last few bars next time: their orders may have filled since
            back = labels[max(0, len(labels) - REREAD_BARS - 1)]
            pod.cursor = back[1] if len(labels) > REREAD_BARS else pod.cursor


def since_text(settings: TradingSettings, epoch: float) -> str:
    """A ``since`` value for the record, in the time format it speaks."""
    return _iso(epoch) if settings.time_format == "iso8601" else f"{epoch:.3f}"


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decisions_after(decisions: Sequence[BarDecision], since: float) -> list[BarDecision]:
    """Decisions on bars that opened at or after ``since`` (epoch seconds)."""
    return [d for d in decisions if d.bar_time >= since]
