"""How a rollout treated the release's trading: judged per phase, halted before a rollback.

Kill switch. Did it stop the release's trading? Judged from the record, not the answer.

A trading rollback halts the release's pods before traffic shifts back (guide §6.1 with
§8.2's trades). A bot can answer ``halted: true`` and keep placing orders, so the halt
is held to what the decision record shows afterwards: no order placed after the halt on
any pod. Orders after the halt are a measured breach (``halt ignored: N orders after
halt``; the rollout then scales the release to 0 before anything else); a pod whose
kill switch or record could not be reached leaves the halt unverified (ERROR), never
verified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from goldgate.criteria.registry import criterion
from goldgate.verdict import Evidence, Verdict

__all__ = ["HALT", "HALTED_FIRST", "ROLLBACK_STEPS", "closed_market_held", "halt_verified", "halted_before_rollback",
           "trading_judged_per_phase"]

HALT = "trading halted before the rollback (kill switch, open orders cancelled)"


@criterion(needs="at least one pod halted, the kill switch answered by every pod and each pod's decision "
                 "record read after its halt")
def halt_verified(halted: Mapping[str, bool], orders_after_halt: Mapping[str, Sequence[str]], *,
                  unreachable: Mapping[str, str] | None = None, cancelled: int = 0,
                  actionable_after: Mapping[str, int] | None = None,
                  evidence: Sequence[Evidence] = (), criterion: str = HALT) -> Verdict:
    """PASS when every pod answered the halt and its record shows no order after it.

    ``halted``: pod -> the kill switch's answer; ``orders_after_halt``: pod -> ids of
    orders the record shows placed after that pod's halt (an id starting with ``"?"``
    means the record could not be read); ``unreachable``: pod -> why its kill switch
    could not be called; ``cancelled``: orders the kill switch cancelled (shown);
    ``actionable_after``: pod -> BUY/SELL decisions its record shows since its halt. A bot
    that ignores its kill switch orders on such a bar, so a pod with none has not yet shown
    that it stopped: INCONCLUSIVE, never PASS (given as None by callers that cannot tell).
    """
    unreachable = dict(unreachable or {})
    late = {pod: [o for o in ids if not str(o).startswith("?")] for pod, ids in orders_after_halt.items()}
    unread = {pod: [str(o) for o in ids if str(o).startswith("?")] for pod, ids in orders_after_halt.items()}
    n_late = sum(len(ids) for ids in late.values())
    kw = {"evidence": tuple(evidence), "rollback": True, "unit": "orders"}
    if n_late > 0:
        where = ", ".join(f"{pod}: {len(ids)}" for pod, ids in sorted(late.items()) if ids)
        return Verdict.failed(criterion, n_late, 0, f"halt ignored: {n_late} orders after halt ({where})", **kw)
    if unreachable:
        return Verdict.error(criterion, "kill switch not reached: " + "; ".join(
            f"{p}: {why}" for p, why in sorted(unreachable.items())), threshold=0, **kw)
    if any(unread.values()):
        return Verdict.error(criterion, "halt not verified: " + "; ".join(
            f"{p}: {ids[0][1:].strip(': ')}" for p, ids in sorted(unread.items()) if ids), threshold=0, **kw)
    if not halted:
        return Verdict.inconclusive(criterion, "no pod was halted: nothing to verify", threshold=0, **kw)
    refused = sorted(p for p, ok in halted.items() if not ok)
    if refused:
        return Verdict.failed(criterion, len(refused), 0, "the kill switch did not confirm the halt on "
                              + ", ".join(refused), **kw)
    if cancelled < 0:
        return Verdict.error(criterion, f"cancelled order count {cancelled} is negative", threshold=0, **kw)
    if actionable_after is not None:
        untested = sorted(p for p in halted if not (isinstance(actionable_after.get(p), int)
                                                   and actionable_after.get(p, 0) > 0))
        if untested:
            return Verdict.inconclusive(criterion, "halt not yet verified: no BUY or SELL bar since the halt on "
                                        + ", ".join(untested) + " (a bot ignoring its kill switch orders on one)",
                                        threshold=0, **kw)
    return Verdict.passed(criterion, 0, 0, f"{len(halted)} pods halted, {cancelled} open orders cancelled, "
                          "no order after the halt in any record", **kw)


#: What moves a release's traffic or removes its pods in each strategy's rollback.
ROLLBACK_STEPS = ("set route weights", "set ingress canary weight", "set canary weight", "scale",
                  "delete deployment", "switch service selector", "rollout undo")
HALTED_FIRST = "trading halted before traffic shifted back (open orders cancelled before the undo)"


@criterion(needs="the rollout's actions in the order they ran, with a done trading halt among them")
def halted_before_rollback(actions: Sequence[tuple[str, str]], *, cancelled_orders: Sequence[str] = (),
                           position_left: Mapping[str, float] | None = None,
                           evidence: Sequence[Evidence] = (), criterion: str = HALTED_FIRST) -> Verdict:
    """PASS when a done ``halt trading`` ran before the first step that shifted traffic back.

    ``actions``: (action, outcome) of the rollback, in the order they ran (from the moment
    the rollback began: the rollout's own weight changes before it are not rollback steps).
    The orders cancelled and the position left are shown with the result.
    """
    kw = {"evidence": tuple(evidence), "rollback": True}
    bad = [a for a in actions if not (isinstance(a, tuple | list) and len(a) == 2)]
    if bad:
        return Verdict.error(criterion, f"unusable action record {bad[0]!r}: expected (action, outcome)",
                             threshold="halt first", **kw)
    halts = [i for i, (name, outcome) in enumerate(actions) if name == "halt trading" and outcome == "done"]
    shown = f"{len(cancelled_orders)} open orders cancelled, position left {dict(position_left or {}) or 'flat'}"
    if not halts:
        return Verdict.failed(criterion, "no halt", "halt first", "the release's trading was never halted "
                              f"({len(actions)} rollback actions ran)", **kw)
    first_back = next((i for i, (name, _) in enumerate(actions) if name in ROLLBACK_STEPS and i > halts[0]), None)
    before = [name for i, (name, _) in enumerate(actions) if name in ROLLBACK_STEPS and i < halts[0]]
    if before:
        return Verdict.failed(criterion, f"after {before[0]}", "halt first",
                              f"traffic shifted back ({before[0]}) before the trading halt", **kw)
    if first_back is None:
        return Verdict.inconclusive(criterion, f"trading halted ({shown}) but no rollback step followed",
                                    observed="halt only", threshold="halt first", **kw)
    return Verdict.passed(criterion, "halt first", "halt first",
                          f"halted before {actions[first_back][0]}: {shown}", **kw)


PER_PHASE = "the release's trading judged in every phase beside the stable version's (§8.2 trades and P&L)"
CLOSED = "a closed market gives INCONCLUSIVE, never PASS"


@criterion(needs="at least one phase, each carrying the trading verdicts of its last evaluation")
def trading_judged_per_phase(phases: Sequence[Mapping[str, object]], *, compared: str = "signal agreement",
                             evidence: Sequence[Evidence] = (), criterion: str = PER_PHASE) -> Verdict:
    """PASS when every phase carries trading verdicts, all PASS, and at least one phase was
    compared with the stable version (``compared`` names that comparison's criterion prefix).

    A phase is a mapping with ``trading`` (its numbers) whose ``last.verdicts`` maps each
    trading criterion to ``{"status": ...}``.
    """
    kw = {"evidence": tuple(evidence)}
    if not phases:
        return Verdict.inconclusive(criterion, "no phase ran", threshold="every phase judged", **kw)
    missing, failed, undecided, with_stable = [], [], [], 0
    for i, phase in enumerate(phases):
        name = str(phase.get("phase") or phase.get("weight") or i)
        trading = phase.get("trading")
        last = trading.get("last") if isinstance(trading, Mapping) else None
        verdicts = last.get("verdicts") if isinstance(last, Mapping) else None
        if not isinstance(verdicts, Mapping) or not verdicts:
            missing.append(name)
            continue
        for crit, v in verdicts.items():
            status = v.get("status") if isinstance(v, Mapping) else None
            if status == "FAIL":
                failed.append(f"{name}: {crit}")
            elif status != "PASS":
                undecided.append(f"{name}: {crit} {status}")
        if any(str(c).lower().startswith(compared.lower()) for c in verdicts):
            with_stable += 1
    judged = len(phases) - len(missing)
    if failed:
        return Verdict.failed(criterion, f"{len(failed)} trading breaches", "every trading check PASS",
                              "; ".join(failed), **kw)
    if missing:
        return Verdict.inconclusive(criterion, "no trading verdicts in phase " + ", ".join(missing),
                                    observed=f"{judged} of {len(phases)} phases", threshold="every phase", **kw)
    if undecided:
        return Verdict.inconclusive(criterion, "; ".join(undecided), observed=f"{judged} phases",
                                    threshold="every trading check PASS", **kw)
    if not with_stable:
        return Verdict.inconclusive(criterion, f"no phase compared the release with the stable version ({compared})",
                                    observed=f"{judged} phases", threshold="compared at least once", **kw)
    return Verdict.passed(criterion, f"{judged} of {len(phases)} phases", "every phase",
                          f"every trading check passed in every phase; {with_stable} compared with the stable version",
                          **kw)


@criterion(needs="the trading verdicts of the window, among them the market's, and what the evaluation added up to")
def closed_market_held(verdicts: Sequence[Verdict], *, outcome: str, market: str,
                       market_words: Sequence[str] = ("market", "no bars"),
                       evidence: Sequence[Evidence] = (), criterion: str = CLOSED) -> Verdict:
    """PASS when a closed-market window could not pass: the market's verdict (criterion
    ``market``) is INCONCLUSIVE naming the cause, no trading check FAILed, and the
    evaluation's ``outcome`` is not PASS. FAIL when it passed anyway or a check failed."""
    kw = {"evidence": tuple(evidence)}
    found = next((v for v in verdicts if v.criterion == market), None)
    if found is None:
        return Verdict.error(criterion, f"no {market!r} verdict in the window", threshold="INCONCLUSIVE", **kw)
    failed = [f"{v.criterion}: {v.reason}" for v in verdicts if v.status.value == "FAIL"]
    if outcome == "PASS" or found.status.value == "PASS":
        return Verdict.failed(criterion, outcome, "INCONCLUSIVE", f"a closed market passed: {found.message()}", **kw)
    if failed:
        return Verdict.failed(criterion, "FAIL", "INCONCLUSIVE", "; ".join(failed), **kw)
    if found.status.value != "INCONCLUSIVE":
        return Verdict.error(criterion, found.message(), threshold="INCONCLUSIVE", **kw)
    if not any(w in found.reason.lower() for w in market_words):
        return Verdict.inconclusive(criterion, f"INCONCLUSIVE without naming the closed market: {found.reason}",
                                    observed=found.status.value, threshold="the cause named", **kw)
    return Verdict.passed(criterion, "INCONCLUSIVE", "INCONCLUSIVE", f"{found.criterion}: {found.reason}", **kw)
