"""A rollback for a trading reason stops the release's trading before traffic shifts back.

Order of a trading rollback (any strategy):

1. every pod of the release is halted through its kill switch (new orders stop, open
   orders are cancelled) - :func:`goldgate.actions.trading.halt_trading`, behind the
   safety policy and in the audit record;
2. every ``trading.halt_verify_s`` the decision record of every halted pod is read, until
   each pod has decided BUY or SELL at least once since its halt (the bar on which a bot
   that ignores its kill switch orders) or an order shows, for at most
   ``HALT_WATCH_STEPS`` reads: an order placed after the halt means the bot ignored its
   kill switch (:func:`goldgate.criteria.trading_rollout.halt_verified` FAILs: "halt
   ignored: N orders after halt"); no BUY/SELL bar since the halt leaves it unverified
   (INCONCLUSIVE). Either way, where the release is a companion Deployment (canary), it is
   scaled to 0 before anything else;
3. the strategy's own rollback runs (weights to 0, undo).

The rollout report shows per pod the orders cancelled, the position and P&L left, and
the halt's verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from goldgate.actions import kubernetes as k8s_actions
from goldgate.actions.base import ActionFailed
from goldgate.actions.trading import halt_trading, record_after_halt
from goldgate.criteria.trading_rollout import halt_verified
from goldgate.rollout.base import RolloutContext, RolloutReport
from goldgate.rollout.trading_monitor import TradingMonitor, is_trading_trigger
from goldgate.safety import MutationRefused
from goldgate.verdict import Evidence, Status, Verdict

#: The record is watched for at most this many ``trading.halt_verify_s`` after a halt.
HALT_WATCH_STEPS = 8

__all__ = ["halt_before_rollback", "trading_breach"]


def trading_breach(breaches: Sequence[Verdict]) -> Verdict | None:
    """The first breach that is about the release's trading, if any."""
    return next((v for v in breaches if is_trading_trigger(v)), None)


def halt_before_rollback(ctx: RolloutContext, report: RolloutReport, monitor: TradingMonitor | None,
                         breaches: Sequence[Verdict], *, scale_deployment: str | None = None) -> Verdict | None:
    """Halt the release's trading when a trading trigger asked for the rollback; its verdict, or None.

    ``scale_deployment``: the release's own Deployment (a canary), scaled to 0 at once when
    the record shows orders after the halt; None where the undo replaces the pods anyway.
    """
    trigger = trading_breach(breaches)
    if monitor is None or trigger is None:
        return None
    try:
        endpoints = monitor.release_endpoints()
    except Exception as exc:  # the pod list comes from the Kubernetes API
        endpoints = []
        report.note(f"trading halt: cannot list the release's pods: {exc}", ctx.log)
    rollback_from = len(report.actions)  # every action from here on belongs to the rollback
    report.note(f"halting the release's trading on {len(endpoints)} pods before traffic shifts back "
                f"({trigger.criterion})", ctx.log)
    try:
        halts = halt_trading(monitor.source, ctx.safety, endpoints, reason=f"trading rollback: {trigger.message()}")
    except MutationRefused as exc:
        report.note(f"trading not halted: {exc}", ctx.log)
        return None
    report.actions.extend(h.action for h in halts if h.action is not None)
    # Watch the record until every halted pod decided BUY or SELL at least once since its halt
    # (the bar on which an ignored halt shows as an order), or an order shows: bounded.
    step = max(ctx.env.trading.halt_verify_s, 0.1)
    waited = 0.0
    while True:
        ctx.sleep(step)
        waited += step
        late, actionable = record_after_halt(monitor.source, halts)
        tested = all(actionable.get(h.pod, 0) > 0 for h in halts if not h.error)
        if late or tested or waited >= HALT_WATCH_STEPS * step:
            break
    cancelled = sum(len(h.cancelled_orders) for h in halts)
    ev = Evidence("kill switch", f"POST {ctx.env.trading.halt_path} then GET {ctx.env.trading.decisions_path}",
                  round(waited, 3), len(halts),
                  {"pods": [h.to_dict() for h in halts], "orders_after_halt": late,
                   "buy_sell_bars_after_halt": actionable})
    verdict = halt_verified({h.pod: h.halted for h in halts if not h.error}, late,
                            unreachable={h.pod: h.error for h in halts if h.error}, cancelled=cancelled,
                            actionable_after=actionable, evidence=(ev,))
    report.checks.append(verdict)
    position: dict[str, float] = {}
    for h in halts:
        for sym, lots in h.position.items():
            position[sym] = round(position.get(sym, 0.0) + lots, 6)
    pnl = [h.pnl_usd for h in halts if h.pnl_usd is not None]
    report.phases.append({"phase": "trading halt", "rollback_from_action": rollback_from,
                          "trigger": trigger.criterion, "verdict": verdict.status.value,
                          "reason": verdict.reason, "cancelled_orders": [o for h in halts for o in h.cancelled_orders],
                          "position_left": position, "pnl_usd_left": round(sum(pnl), 2) if pnl else None,
                          "orders_after_halt": late, "pods": [h.to_dict() for h in halts]})
    report.note(f"trading halt: {verdict.status.value}: {verdict.reason}; {cancelled} open orders cancelled, "
                f"position left {position or 'flat'}", ctx.log)
    # An ignored halt, and one not shown to hold, both stop the release's pods first.
    if verdict.status in (Status.FAIL, Status.INCONCLUSIVE) and scale_deployment:
        try:
            report.actions.append(k8s_actions.scale(ctx.kube, ctx.safety, ctx.namespace, scale_deployment, 0,
                                                    reason=f"{verdict.reason}: the release is stopped first"))
        except ActionFailed as exc:
            report.note(f"could not scale {scale_deployment} to 0: {exc}", ctx.log)
    return verdict
