"""The trading triggers of a rollout: one evaluation's trading verdicts from the two tracks' records.

:class:`goldgate.rollout.trading_monitor.TradingMonitor` reads the release's and the stable
version's decision records each evaluation; turning them into verdicts is here, without I/O:
the hard guards (pre-trade limits, drawdown), the market and enough bars, and, beside a
stable version, the sequential comparisons (signal agreement, trade rate, order rejects),
which are fed each poll's new counts so a burst both versions see cancels out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from goldgate.config import TradingSettings
from goldgate.criteria.measured import probe_failed
from goldgate.criteria.registry import criterion as registered
from goldgate.criteria.trading.agreement import (
    AGREEMENT,
    AgreementPlan,
    SignalAgreement,
    signal_agreement,
)
from goldgate.criteria.trading.limits import LIMITS, pre_trade_limits
from goldgate.criteria.trading.market import MARKET, trading_evidence
from goldgate.criteria.trading.pnl import DRAWDOWN, pnl_drawdown
from goldgate.criteria.trading.rates import TRADE_RATE, TradeRate, TradeRatePlan, trade_rate
from goldgate.criteria.trading.records import TrackStream, TradingLimits
from goldgate.criteria.trading.rejects import REJECTS, OrderRejects, RejectPlan, order_rejects
from goldgate.criteria.trading.resume import (
    VERSION,
    SnapshotRefusedError,
    num,
    restore_test,
    snapshot_test,
    unnum,
)
from goldgate.verdict import Evidence, Verdict

#: Every trading verdict's criterion: the hard guards, the comparisons, the market.
HARD_GUARDS = (LIMITS, DRAWDOWN)
COMPARISONS = (AGREEMENT, TRADE_RATE, REJECTS)
TRADING_TRIGGERS = (*HARD_GUARDS, MARKET, *COMPARISONS)


def trigger_names(with_stable: bool) -> tuple[str, ...]:
    """The trading criteria an evaluation judges (the comparisons only beside a stable version)."""
    return (*HARD_GUARDS, MARKET, *(COMPARISONS if with_stable else ()))


def is_trading_trigger(verdict: Verdict | None) -> bool:
    """Is this rollback reason the release's trading (so its trading is halted first)?"""
    return verdict is not None and verdict.criterion in TRADING_TRIGGERS


@registered(needs="nothing can pass here: a decision record that could not be read is ERROR for every trigger")
def records_unreadable(cause: str, *, with_stable: bool, evidence: Iterable[Evidence] = ()) -> list[Verdict]:
    """Every trading trigger when a record could not be read: ERROR, naming the pods and causes."""
    evidence = tuple(evidence)
    return [probe_failed(name, f"could not read the decision record: {cause}", evidence=evidence, rollback=True)
            for name in trigger_names(with_stable)]


def limits_of(t: TradingSettings) -> TradingLimits:
    """The pre-trade limits of the environment's ``trading.limits``."""
    return TradingLimits(
        max_order_volume=t.limits.max_order_volume, max_notional_usd=t.limits.max_notional_usd,
        price_collar_bps=t.limits.price_collar_bps, max_position_lots=t.limits.max_position_lots,
        max_orders_per_minute=t.limits.max_orders_per_minute, contract_size=dict(t.limits.contract_size),
        default_contract_size=t.limits.default_contract_size)


class TradingTriggers:
    """The trading triggers of one release over a window: the comparisons' sequential tests and counts.

    ``max_gap_s``: the longest stretch without bars the market trigger accepts (three
    evaluation intervals). The comparisons start afresh with each stable group
    (:meth:`restart_comparisons`); the hard guards judge the release's whole record.
    """

    def __init__(self, settings: TradingSettings, *, max_gap_s: float,
                 expected_agreement: float | None = None) -> None:
        self.settings = settings
        self.max_gap_s = max_gap_s
        self.expected_agreement = expected_agreement
        self._agreement: SignalAgreement | None = None
        self._rate: TradeRate | None = None
        self._rejects: OrderRejects | None = None
        self._counted: tuple[int, float, int, float, int, int] = (0, 0, 0, 0, 0, 0)

    # ------------------------------------------------------------------ restart
    def snapshot(self) -> dict[str, Any]:
        """The comparisons' state as plain JSON (:mod:`goldgate.criteria.trading.resume`), for the run's record.

        The hard guards and the market trigger keep no state of their own: they judge the
        release's whole record, which the record cursor (the monitor's) re-reads after a restart.
        """
        comparisons = None
        if self._agreement is not None and self._rate is not None and self._rejects is not None:
            comparisons = {"agreement": snapshot_test(self._agreement), "rate": snapshot_test(self._rate),
                           "rejects": snapshot_test(self._rejects), "counted": [num(c) for c in self._counted]}
        return {"version": VERSION, "kind": "TradingTriggers", "expected_agreement": self.expected_agreement,
                "comparisons": comparisons}

    def restore(self, snap: Any) -> str:
        """Continue from :meth:`snapshot`; '' when continued, else why the comparisons start afresh.

        A refused snapshot (another version, changed settings, malformed) leaves the
        comparisons fresh: they wait for new evidence, never pass on the refused one.
        """
        self._agreement = self._rate = self._rejects = None
        self._counted = (0, 0, 0, 0, 0, 0)
        try:
            if not isinstance(snap, dict) or snap.get("kind") != "TradingTriggers":
                raise SnapshotRefusedError("the trading snapshot is not one of the trading triggers")
            if snap.get("version") != VERSION:
                raise SnapshotRefusedError(f"trading snapshot version {snap.get('version')!r}, this judge reads "
                                           f"{VERSION}")
            if snap.get("expected_agreement") != self.expected_agreement:
                raise SnapshotRefusedError(f"the expected agreement changed since the snapshot "
                                           f"({snap.get('expected_agreement')!r}, now {self.expected_agreement!r})")
            comparisons = snap.get("comparisons")
            if comparisons is None:
                return ""
            if not isinstance(comparisons, dict):
                raise SnapshotRefusedError("the comparisons' snapshot is not an object")
            self._tests()
            assert self._agreement is not None and self._rate is not None and self._rejects is not None
            restore_test(self._agreement, comparisons.get("agreement"))
            restore_test(self._rate, comparisons.get("rate"))
            restore_test(self._rejects, comparisons.get("rejects"))
            counted = comparisons.get("counted")
            if not isinstance(counted, list) or len(counted) != 6:
                raise SnapshotRefusedError(f"the counted orders and bars are malformed: {counted!r}")
            c = [unnum(x, "counted") for x in counted]
            if not all(math.isfinite(x) and x >= 0 for x in c):
                raise SnapshotRefusedError(f"the counted orders and bars are malformed: {counted!r}")
            self._counted = (int(c[0]), c[1], int(c[2]), c[3], int(c[4]), int(c[5]))
        except SnapshotRefusedError as exc:
            self._agreement = self._rate = self._rejects = None
            self._counted = (0, 0, 0, 0, 0, 0)
            return str(exc)
        return ""

    def restart_comparisons(self) -> None:
        """A new stable group: the comparisons' tests start again at the next evaluation."""
        self._agreement = None

    def _tests(self) -> None:
        """The sequential tests of the comparison with the current stable group (fresh per group)."""
        t = self.settings
        self._agreement = SignalAgreement(AgreementPlan(
            min_agreement=t.min_agreement, tolerance=t.agreement_tolerance, expected_agreement=self.expected_agreement,
            alpha=t.false_rollback, beta=t.missed_breach, min_pairs=t.min_bars))
        self._rate = TradeRate(TradeRatePlan(bounds=tuple(t.trade_rate_ratio), alpha=t.false_rollback,
                                             beta=t.missed_breach))
        self._rejects = OrderRejects(RejectPlan(margin=t.reject_margin, alpha=t.false_rollback,
                                                beta=t.missed_breach))
        self._counted = (0, 0.0, 0, 0.0, 0, 0)

    @registered(needs="the release's decision record with min_bars bars; beside a stable version, paired bars and "
                      "orders enough for each comparison's sequential test")
    def judge(self, canary: TrackStream, stable: TrackStream | None, *, now: float,
              evidence: tuple[Any, ...] = ()) -> list[Verdict]:
        """The trading verdicts of one evaluation; ``now`` is the wall-clock time of the reads."""
        t = self.settings
        verdicts = [
            pre_trade_limits(canary, limits_of(t), evidence=evidence),
            pnl_drawdown(canary, t.max_drawdown_usd, stable=stable, evidence=evidence),
            trading_evidence(canary, stable, min_bars=t.min_bars, now=now, max_gap_s=self.max_gap_s,
                             evidence=evidence),
        ]
        if stable is None:
            return verdicts
        if self._agreement is None:
            self._tests()
        assert self._agreement is not None and self._rate is not None and self._rejects is not None
        verdicts.append(signal_agreement(self._agreement.observe(canary, stable), evidence=evidence))
        # The rate tests take each poll's new counts: both tracks over the same poll, so a
        # burst that hits every version at once cancels out.
        c_orders, s_orders = len(canary.orders), len(stable.orders)
        c_bars, s_bars = float(canary.bars), float(stable.bars)
        c_rej = sum(1 for o in canary.orders if o.status == "rejected")
        s_rej = sum(1 for o in stable.orders if o.status == "rejected")
        p = self._counted
        new = (max(0, c_orders - p[0]), max(0.0, c_bars - p[1]), max(0, s_orders - p[2]), max(0.0, s_bars - p[3]))
        new_rej = (min(new[0], max(0, c_rej - p[4])), min(new[2], max(0, s_rej - p[5])))
        self._counted = (max(c_orders, p[0]), max(c_bars, p[1]), max(s_orders, p[2]), max(s_bars, p[3]),
                         max(c_rej, p[4]), max(s_rej, p[5]))
        verdicts.append(trade_rate(self._rate.observe(*new), evidence=evidence))
        verdicts.append(order_rejects(self._rejects.observe(new_rej[0], new[0], new_rej[1], new[2]),
                                      evidence=evidence))
        return verdicts
