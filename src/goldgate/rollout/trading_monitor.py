"""The trading triggers of a rollout: what the release trades, beside what the stable version trades.

A trading bot decides on its own, every bar, whatever traffic it gets; so a release is
also judged on its decisions, every evaluation of every phase (canary, blue-green switch
window, rolling update, ``goldgate watch``):

=============================  ==============================================  ===========
trigger                        criterion (:mod:`goldgate.criteria.trading`)    on FAIL
=============================  ==============================================  ===========
pre-trade limits (hard guard)  volume, notional, price collar, position, rate  rollback at once
P&L drawdown (hard guard)      the release's drawdown since it began trading   rollback at once
signal agreement               paired by bar with the stable version's         rollback
trade rate                     trades per bar per pod vs stable's              rollback
order rejects                  reject rate vs stable's + margin                rollback
market open / enough bars      no bars or too few: INCONCLUSIVE, never PASS    (hold)
=============================  ==============================================  ===========

"Stable" is whatever runs the previous version beside the release at the same time: the
stable pods of a canary, blue during the blue-green switch window, the old ReplicaSet's
pods while a rolling update replaces them. Where nothing runs beside the release (a
rolling update after its last old pod went, ``goldgate watch``), the comparisons have
nothing to pair with and are left out, said so in :attr:`TradingMonitor.notes`; the hard
guards and the drawdown still hold.

The release's decisions are read from the start of its first phase and kept across
phases: a bot's trading does not depend on its share of requests, so the evidence of the
10 % phase still counts at 50 %. This module only reads, converts and carries verdicts;
every decision is made in :mod:`goldgate.criteria` (the trading triggers' own in
:mod:`goldgate.criteria.trading.triggers`, whose names stay importable from here).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from goldgate.config import Environment
from goldgate.criteria import trading as judge
from goldgate.criteria.trading.resume import VERSION, SnapshotRefusedError, plain, unnum
from goldgate.criteria.trading.triggers import (
    COMPARISONS,
    HARD_GUARDS,
    TRADING_TRIGGERS,
    TradingTriggers,
    is_trading_trigger,
    records_unreadable,
    trigger_names,
)
from goldgate.probes.kubernetes import KubeClients
from goldgate.probes.metrics import KubernetesTargets
from goldgate.probes.trading import (
    BarDecision,
    PodEndpoint,
    TrackReading,
    TrackWindow,
    TradingRecordSource,
    endpoints_from_targets,
)
from goldgate.rollout.sources import PORT_MAP_ANNOTATION
from goldgate.verdict import Verdict

__all__ = ["COMPARISONS", "HARD_GUARDS", "MARKET", "TRADING_TRIGGERS", "TradingMonitor", "is_trading_trigger", "track_stream",
           "trading_monitor", "trading_source", "trigger_names"]


def trading_source(env: Environment, kube: KubeClients) -> TradingRecordSource:
    """The decision records of the environment's bot, reached pod by pod through the Kubernetes API."""
    t = env.trading
    if t.port is not None:
        discovery = KubernetesTargets(kube.core, namespace=env.kubernetes.namespace, timeout_s=kube.timeout,
                                      port_annotation="", port_name="", default_port=t.port,
                                      port_map_annotation=PORT_MAP_ANNOTATION)
    else:
        discovery = KubernetesTargets(kube.core, namespace=env.kubernetes.namespace, timeout_s=kube.timeout,
                                      port_map_annotation=PORT_MAP_ANNOTATION)
    return TradingRecordSource(t, env.timeouts, endpoints_from_targets(discovery),
                               verify_tls=env.http.verify_tls)


MARKET = judge.MARKET


@dataclass
class TradingMonitor:
    """Reads the release's and the stable version's records each evaluation and judges them."""

    env: Environment
    source: TradingRecordSource
    release: Any  # rollout.monitor.Group
    stable: Any | None = None
    expected_agreement: float | None = None
    clock: Callable[[], float] = time.monotonic
    notes: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    _release_window: TrackWindow | None = None
    _stable_window: TrackWindow | None = None
    _last: tuple[TrackReading | None, TrackReading | None] = (None, None)
    _triggers: TradingTriggers | None = None
    #: bars of the release's record before a restart this monitor continued from (0: not restored)
    restored_bars: int = 0

    def start(self) -> None:
        """Open the windows (once: later phases keep reading the same ones)."""
        if self._release_window is None:
            self._release_window = self.source.start(self.release.selector, self.release.name)
        if self.stable is not None and self._stable_window is None:
            self._stable_window = self.source.start(self.stable.selector, self.stable.name)

    def compare_with(self, stable: Any | None) -> None:
        """A later phase compares with another group (or none: the stable pods are gone)."""
        if stable is None:
            if self.stable is not None:
                self.notes.append(f"{self.stable.name}: no longer running beside the release; its "
                                  "comparisons end with the last phase it ran in")
            self.stable, self._stable_window = None, None
        elif self.stable is None or stable.selector != self.stable.selector:
            self.stable, self._stable_window = stable, None
            if self._triggers is not None:
                self._triggers.restart_comparisons()

    def evaluate(self) -> list[Verdict]:
        """One more read of both records; the trading verdicts of the window so far."""
        self.start()
        assert self._release_window is not None
        rel = self._release_window.read()
        stb = self._stable_window.read() if self._stable_window is not None else None
        if stb is not None and not stb.pods and not stb.errors:
            stb = None  # nothing runs beside the release now (the 100 % phase, a finished rolling update)
        self._last = (rel, stb)
        verdicts = self._judge(rel, stb)
        self.history.append(self._numbers(rel, stb, verdicts))
        return verdicts

    # ------------------------------------------------------------------ restart
    def snapshot(self) -> dict[str, Any]:
        """What a restarted judge needs to continue this run's trading evidence, as plain JSON.

        The record cursor (each window's opening: bars since then are read again, so none is
        skipped) with the P&L series seen, and the comparisons' state with the orders and bars
        they already counted (so none is counted twice). No I/O.
        """
        def window(w: TrackWindow | None, group: Any) -> dict[str, Any] | None:
            if w is None or group is None:
                return None
            return {"selector": group.selector.label_selector(), **plain(w.cursor())}

        last = self._last[0]
        return {"version": VERSION, "kind": "TradingMonitor", "bars": last.bars if last is not None else 0,
                "release": window(self._release_window, self.release),
                "stable": window(self._stable_window, self.stable),
                "triggers": self._triggers.snapshot() if self._triggers is not None else None}

    def restore(self, snap: Any) -> str:
        """Continue from :meth:`snapshot` (before the first evaluation); '' when continued, else why the
        trading evidence starts afresh. Never raises: a refused snapshot is a fresh start."""
        try:
            if not isinstance(snap, dict) or snap.get("kind") != "TradingMonitor":
                raise SnapshotRefusedError("the stored trading evidence is not a trading monitor's")
            if snap.get("version") != VERSION:
                raise SnapshotRefusedError(f"trading snapshot version {snap.get('version')!r}, this judge reads "
                                           f"{VERSION}")
            cursors = {"release": _cursor(snap.get("release"), self.release, "release")}
            if self.stable is not None and snap.get("stable") is not None:
                cursors["stable"] = _cursor(snap.get("stable"), self.stable, "stable")
            elif (self.stable is None) != (snap.get("stable") is None):
                raise SnapshotRefusedError("the version beside the release changed since the snapshot")
            triggers = TradingTriggers(self.env.trading, max_gap_s=3 * self.env.strategy.evaluation_interval_s,
                                       expected_agreement=self.expected_agreement)
            if snap.get("triggers") is not None:
                why = triggers.restore(snap.get("triggers"))
                if why:
                    raise SnapshotRefusedError(why)
        except SnapshotRefusedError as exc:
            return str(exc)
        self.start()
        assert self._release_window is not None
        self._release_window.resume(*cursors["release"])
        if "stable" in cursors and self._stable_window is not None:
            self._stable_window.resume(*cursors["stable"])
        self._triggers = triggers
        self.restored_bars = int(snap.get("bars") or 0) if isinstance(snap.get("bars"), int) else 0
        return ""

    # ------------------------------------------------------------------ judging
    def _judge(self, rel: TrackReading, stb: TrackReading | None) -> list[Verdict]:
        """Hand both readings to the trading triggers (:mod:`goldgate.criteria.trading.triggers`)."""
        evidence = tuple(r.evidence() for r in (rel, stb) if r is not None)
        if rel.errors or (stb is not None and stb.errors):
            why = "; ".join(f"{k}: {v}" for r in (rel, stb) if r is not None for k, v in r.errors.items())
            return records_unreadable(why, with_stable=stb is not None, evidence=evidence)
        if self._triggers is None:
            self._triggers = TradingTriggers(self.env.trading, max_gap_s=3 * self.env.strategy.evaluation_interval_s)
        self._triggers.expected_agreement = self.expected_agreement  # read when a comparison starts
        stable = track_stream(stb, "stable") if stb is not None else None
        return self._triggers.judge(track_stream(rel, "canary"), stable, now=time.time(), evidence=evidence)

    # ------------------------------------------------------------------ numbers
    def _numbers(self, rel: TrackReading, stb: TrackReading | None, verdicts: Sequence[Verdict]) -> dict[str, Any]:
        paired, agreed = pair_counts(rel.decisions, stb.decisions if stb else ())
        return {
            "elapsed_s": round(rel.elapsed_s, 1), "paired_bars": paired,
            "agreement": round(agreed / paired, 4) if paired else None,
            "canary_bars": rel.bars, "canary_orders": len(rel.orders), "canary_pods": len(rel.pods),
            "canary_rejects": sum(1 for o in rel.orders if o.status == "rejected"),
            "canary_pnl_usd": rel.pnl_usd, "canary_position": dict(rel.position),
            "stable_bars": stb.bars if stb else None, "stable_orders": len(stb.orders) if stb else None,
            "stable_pods": len(stb.pods) if stb else 0,
            "stable_rejects": sum(1 for o in stb.orders if o.status == "rejected") if stb else None,
            "stable_pnl_usd": stb.pnl_usd if stb else None,
            "verdicts": {v.criterion: {"status": v.status.value, "observed": v.observed, "threshold": v.threshold,
                                       "reason": v.reason} for v in verdicts},
        }

    def numbers(self, phase: str) -> dict[str, Any]:
        """Everything behind the phase's trading verdicts, for the report and its chart."""
        t = self.env.trading
        last = self.history[-1] if self.history else {}
        return {"phase": phase, "min_agreement": self.expected_agreement or t.min_agreement,
                "trade_rate_ratio": list(t.trade_rate_ratio), "reject_margin": t.reject_margin,
                "max_drawdown_usd": t.max_drawdown_usd, "limits": t.limits.model_dump(), "min_bars": t.min_bars,
                "paired_bars": last.get("paired_bars", 0), "last": last, "series": list(self.history),
                "notes": list(self.notes)}

    def release_endpoints(self) -> list[PodEndpoint]:
        """The release's pods as the record source reaches them (for the kill switch)."""
        return self.source.endpoints(self.release.selector)


def _cursor(snap: Any, group: Any, track: str) -> tuple[float, list[tuple[float, float]]]:
    """A window's stored cursor, checked: the same pods, a finite opening, a P&L series of numbers."""
    if not isinstance(snap, dict):
        raise SnapshotRefusedError(f"the {track} record cursor is missing")
    if snap.get("selector") != group.selector.label_selector():
        raise SnapshotRefusedError(f"the {track} pods changed since the snapshot ({snap.get('selector')!r}, now "
                                   f"{group.selector.label_selector()!r})")
    opened = unnum(snap.get("opened_wall"), f"{track}.opened_wall")
    if not math.isfinite(opened) or opened <= 0 or opened > time.time() + 60:
        raise SnapshotRefusedError(f"the {track} record cursor is not a past time: {snap.get('opened_wall')!r}")
    series = snap.get("pnl_series")
    if not isinstance(series, list) or not all(isinstance(p, list) and len(p) == 2 for p in series):
        raise SnapshotRefusedError(f"the {track} P&L series is malformed")
    points = [(unnum(t, f"{track}.pnl_series"), unnum(v, f"{track}.pnl_series")) for t, v in series]
    if not all(math.isfinite(t) and math.isfinite(v) for t, v in points):
        raise SnapshotRefusedError(f"the {track} P&L series has a non-finite point")
    return opened, points


def pair_counts(release: Sequence[BarDecision], stable: Sequence[BarDecision]) -> tuple[int, int]:
    """Bars (bar, symbol) both sides decided, and on how many they decided alike (shown only)."""
    mine = first_per_bar(release)
    theirs = first_per_bar(stable)
    both = set(mine) & set(theirs)
    return len(both), sum(1 for k in both if mine[k] == theirs[k])


def first_per_bar(decisions: Sequence[BarDecision]) -> dict[tuple[float, str], str]:
    out: dict[tuple[float, str], str] = {}
    for d in decisions:
        out.setdefault((round(d.bar_time, 3), d.symbol), d.signal)
    return out


def track_stream(reading: TrackReading, track: str) -> Any:
    """The criteria's record of one track from the probe's reading (no I/O on either side)."""
    decisions = tuple(judge.Decision(
        bar_time=d.bar_time, symbol=d.symbol, signal=d.signal, mid=d.mid, model_version=d.model_version,
        source=d.pod, orders=tuple(judge.Order(
            order_id=o.order_id, side=o.side, volume=o.volume, limit_price=o.limit_price, status=o.status,
            fill_price=o.fill_price, mid=o.mid, placed_at=o.placed_at, reject_reason=o.reject_reason)
            for o in d.orders)) for d in reading.decisions)
    halted = set(reading.halted.values())
    return judge.TrackStream(track=track, decisions=decisions, replicas=max(1, len(reading.pods)),
                             pnl=reading.pnl_series, positions=dict(reading.position),
                             halted=halted.pop() if len(halted) == 1 else None)


def trading_monitor(env: Environment, kube: KubeClients, release: Any, stable: Any | None, *,
                    expected_agreement: float | None = None,
                    source: TradingRecordSource | None = None) -> TradingMonitor | None:
    """The trading triggers of one release, or None where the environment's bot does not trade."""
    if not env.trading.enabled:
        return None
    return TradingMonitor(env, source or trading_source(env, kube), release, stable,
                          expected_agreement=expected_agreement)
