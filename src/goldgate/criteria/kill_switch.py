"""Did the kill switch stop the release's trading? Judged from the record, not the answer.

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

__all__ = ["HALT", "halt_verified"]

HALT = "trading halted before the rollback (kill switch, open orders cancelled)"


@criterion(needs="at least one pod halted, the kill switch answered by every pod and each pod's decision "
                 "record read after its halt")
def halt_verified(halted: Mapping[str, bool], orders_after_halt: Mapping[str, Sequence[str]], *,
                  unreachable: Mapping[str, str] | None = None, cancelled: int = 0,
                  evidence: Sequence[Evidence] = (), criterion: str = HALT) -> Verdict:
    """PASS when every pod answered the halt and its record shows no order after it.

    ``halted``: pod -> the kill switch's answer; ``orders_after_halt``: pod -> ids of
    orders the record shows placed after that pod's halt (an id starting with ``"?"``
    means the record could not be read); ``unreachable``: pod -> why its kill switch
    could not be called; ``cancelled``: orders the kill switch cancelled (shown).
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
    return Verdict.passed(criterion, 0, 0, f"{len(halted)} pods halted, {cancelled} open orders cancelled, "
                          "no order after the halt in any record", **kw)
