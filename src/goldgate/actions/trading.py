"""Stop a release's trading before its traffic shifts back: the bot's kill switch, per pod.

A trading rollback that only moves traffic leaves the canary's orders resting in the
market and its decision loop placing new ones (a bot trades without a client asking). So a
trading trigger first halts every pod of the release through the kill switch the bot
offers (``trading.halt_path``: stop new orders, cancel the open ones), behind the safety
policy and recorded like every other mutation; then the rollback's usual steps run.

The kill switch's answer is not trusted: a bot can say ``halted: true`` and keep trading.
:func:`orders_after_halt` reads the decision record afterwards and counts the orders
placed after each pod's halt; the rollout scales the release to 0 first when any were.

Examples::

    halts = halt_trading(source, safety, endpoints, reason="canary rollback: signal agreement")
    [h.cancelled_orders for h in halts]
    orders_after_halt(source, halts)      # {"trading-bot-canary-x": ["o-17", ...]}
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from goldgate.actions.base import ActionFailed, ActionResult, SafetyLike, perform
from goldgate.probes.trading import (
    PodEndpoint,
    RecordUnreadable,
    TradingRecordSource,
    parse_decisions,
    since_text,
)

__all__ = ["PodHalt", "halt_trading", "orders_after_halt", "record_after_halt", "resume_trading",
           "set_market_session"]


@dataclass(frozen=True)
class PodHalt:
    """What one pod's kill switch answered (or why it could not be reached)."""

    pod: str
    base_url: str
    at: float
    halted: bool
    cancelled_orders: tuple[str, ...] = ()
    open_orders: int | None = None
    position: Mapping[str, float] = field(default_factory=dict)
    pnl_usd: float | None = None
    error: str = ""
    action: ActionResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pod": self.pod, "halted": self.halted, "cancelled_orders": list(self.cancelled_orders),
                "open_orders": self.open_orders, "position": dict(self.position), "pnl_usd": self.pnl_usd,
                **({"error": self.error} if self.error else {})}


def _post(source: TradingRecordSource, base_url: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One POST (never retried: a halt that timed out may have been applied)."""
    probe = source.probe(base_url)
    try:
        obs = probe.post(path, dict(body))
    finally:
        probe.close()
    if not obs.answered:
        raise ActionFailed(f"POST {obs.url}: {obs.error}")
    if obs.status != 200:
        raise ActionFailed(f"POST {obs.url}: HTTP {obs.status}: {obs.body[:120]!r}")
    try:
        answer = obs.json()
    except ValueError as exc:
        raise ActionFailed(str(exc)) from None
    if not isinstance(answer, dict):
        raise ActionFailed(f"POST {obs.url}: expected a JSON object")
    return answer


def halt_trading(source: TradingRecordSource, safety: SafetyLike, endpoints: Sequence[PodEndpoint], *,
                 reason: str) -> list[PodHalt]:
    """Call the kill switch of every pod; a pod that refuses is recorded, the others still halt.

    Raises :class:`goldgate.safety.MutationRefused` (before any pod is touched) when the run
    may not mutate.
    """
    f = source.settings.fields
    out = []
    for ep in endpoints:
        at = time.time()
        try:
            answer, result = perform(safety, "halt trading", f"pod/{ep.pod}",
                                     lambda ep=ep: _post(source, ep.base_url, source.settings.halt_path,
                                                         {"reason": reason}),
                                     reason=reason, url=ep.base_url + source.settings.halt_path)
        except ActionFailed as exc:
            out.append(PodHalt(ep.pod, ep.base_url, at, False, error=str(exc)))
            continue
        # The halt counts from the pod's answer, not from the call: an order the pod placed
        # while the call was in flight came before the halt took effect, and an ignored halt
        # shows on the bars after it anyway (the record is watched for one).
        at = time.time()
        cancelled = answer.get(f.cancelled_orders) or []
        position = answer.get(f.position) or {}
        pnl = answer.get(f.pnl)
        opens = answer.get(f.open_orders)
        out.append(PodHalt(
            ep.pod, ep.base_url, at, bool(answer.get(f.halted)),
            cancelled_orders=tuple(str(c) for c in cancelled) if isinstance(cancelled, list) else (),
            open_orders=int(opens) if isinstance(opens, int | float) and not isinstance(opens, bool) else None,
            position={str(k): float(v) for k, v in position.items() if isinstance(v, int | float)}
            if isinstance(position, dict) else {},
            pnl_usd=float(pnl) if isinstance(pnl, int | float) and not isinstance(pnl, bool) else None,
            action=ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                                {**result.details, "cancelled_orders": list(cancelled) if isinstance(cancelled, list)
                                 else [], "position": position, "pnl_usd": pnl})))
    return out


def resume_trading(source: TradingRecordSource, safety: SafetyLike, endpoint: PodEndpoint, *,
                   reason: str) -> ActionResult:
    """Switch a pod's kill switch off again (a rehearsal's cleanup)."""
    _, result = perform(safety, "resume trading", f"pod/{endpoint.pod}",
                        lambda: _post(source, endpoint.base_url, source.settings.resume_path, {"reason": reason}),
                        reason=reason)
    return result


def orders_after_halt(source: TradingRecordSource, halts: Sequence[PodHalt]) -> dict[str, list[str]]:
    """Order ids each halted pod's record shows placed after its halt (read-only).

    A pod whose record cannot be read is listed with the reason instead (``"?: ..."``):
    a halt that cannot be verified is not a verified halt.
    """
    return record_after_halt(source, halts)[0]


def record_after_halt(source: TradingRecordSource, halts: Sequence[PodHalt]
                      ) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Per halted pod: the orders its record shows after its halt, and its BUY/SELL decisions since.

    A BUY or SELL bar after the halt is the moment a bot that ignores its kill switch orders;
    without one, "no order since the halt" proves nothing yet.
    """
    s = source.settings
    late: dict[str, list[str]] = {}
    actionable: dict[str, int] = {}
    for h in halts:
        if h.error:
            continue
        since = since_text(s, h.at - 5.0)
        try:
            body, obs = source.get_json(h.base_url, s.decisions_path, {s.since_param: since,
                                                                        s.limit_param: s.page_size})
            decisions = parse_decisions(body, s.fields, pod=h.pod, where=f"GET {obs.url}")
        except RecordUnreadable as exc:
            late[h.pod] = [f"?: {exc}"]
            continue
        ids = [o.order_id for d in decisions for o in d.orders if o.placed_at > h.at]
        if ids:
            late[h.pod] = ids
        actionable[h.pod] = sum(1 for d in decisions if d.bar_time > h.at and d.signal in ("BUY", "SELL"))
    return late, actionable


def set_market_session(safety: SafetyLike, control_url: str, *, open_: bool, timeout_s: float = 5.0,
                       reason: str = "") -> ActionResult:
    """Close or open a rehearsal market's session (``POST <control_url>/close|open``).

    Only a rehearsal market offers this; closing it makes every bot stop deciding, which is
    how a closed market during a phase is rehearsed.
    """
    import requests

    what = "open" if open_ else "close"

    def _post() -> None:
        resp = requests.post(f"{control_url.rstrip('/')}/{what}", json={"reason": reason}, timeout=timeout_s)
        if resp.status_code != 200:
            raise ActionFailed(f"POST {resp.url}: HTTP {resp.status_code}")

    _, result = perform(safety, f"{what} market", control_url, _post, reason=reason)
    return result
