"""Guide §8.3 "Network: Network I/O (baseline expected)": bytes per served request near the baseline.

The guide states no number, only that network I/O has a baseline. Raw bytes per second
follow the traffic, so the comparison is per request: the bytes (received + sent) the
selected pods moved over a window, divided by the requests they served in the same window.
A release that suddenly moves far more per request (a chatty dependency, an unbounded
payload, a retry storm) or far less (answers cut short, a cache that stopped filling, calls
it no longer makes) has changed behaviour, so the bound is two-sided: FAIL above
``baseline x factor`` and below ``baseline / factor``.

The baseline is the team's (``thresholds.network_bytes_per_request``); without one there
is nothing to compare with and the verdict is INCONCLUSIVE saying where to state it. A pod
without statistics, or whose counters went down (its sandbox restarted), leaves bytes
uncounted: ERROR, because a partial sum per request would read as "far less". A selection
that changed inside the window, or counters the kubelet did not refresh, is INCONCLUSIVE.
Pure: the window comes from ``goldgate.probes.pod_network``, the request count from the
environment's metric source.
"""

from __future__ import annotations

import math
from typing import Any

from goldgate.criteria.registry import criterion as registered
from goldgate.probes.pod_network import DeltaState, NetworkDeltas, PodDelta
from goldgate.verdict import Evidence, Verdict

__all__ = ["network_io_per_request"]

_WHERE = "thresholds.network_bytes_per_request in the environment file (environments/<env>.yaml)"
_UNIT = "bytes/request"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _evidence(deltas: NetworkDeltas, requests: Any, bounds: tuple[float, float] | None) -> Evidence:
    pods = {p.pod: {"state": str(p.state), "node": p.node, "rx_bytes": p.rx_bytes, "tx_bytes": p.tx_bytes,
                    "counter_span_s": p.counter_span_s, **({"note": p.note} if p.note else {})} for p in deltas.pods}
    details: dict[str, Any] = {"namespace": deltas.namespace, "selector": deltas.selector, "nodes": list(deltas.nodes),
                               "pods": pods, "requests": requests}
    if bounds is not None:
        details["bounds"] = list(bounds)
    return Evidence("kubelet summary API (stats/v1alpha1)",
                    "GET /api/v1/nodes/{node}/proxy/stats/summary", window=deltas.elapsed_s,
                    samples=requests if isinstance(requests, int) and not isinstance(requests, bool) else None,
                    details=details)


def _fmt(x: float) -> str:
    """Bytes as a reader counts them: thousands separated, at most one decimal, no exponent."""
    return f"{x:,.1f}".removesuffix(".0")


@registered(needs="a stated baseline, a factor > 1, network statistics for every selected pod over a "
                  "window with at least `min_requests` requests served in it")
def network_io_per_request(
    deltas: NetworkDeltas,
    requests: int,
    *,
    baseline_bytes_per_request: float | None,
    factor: float,
    min_requests: int,
    criterion: str = "network I/O per request within its baseline",
    rollback: bool = False,
) -> Verdict:
    """Bytes (rx + tx over the selected pods) per served request within
    ``[baseline / factor, baseline x factor]``."""
    kw: dict[str, Any] = {"unit": _UNIT, "rollback": rollback}
    # the stated numbers first: a malformed one is an unusable input, a missing baseline is no comparison
    if not _number(factor) or factor <= 1:
        return Verdict.error(criterion, f"thresholds.network_io_factor = {factor!r} is not a finite factor > 1", **kw)
    if isinstance(min_requests, bool) or not isinstance(min_requests, int) or min_requests < 1:
        return Verdict.error(criterion, f"min_requests = {min_requests!r} is not a count >= 1", **kw)
    if baseline_bytes_per_request is None:
        return Verdict.inconclusive(criterion, f"no baseline stated: set {_WHERE} to the bytes in + out per "
                                    "served request the release is expected to move", **kw)
    if not _number(baseline_bytes_per_request) or baseline_bytes_per_request <= 0:
        return Verdict.error(criterion, f"thresholds.network_bytes_per_request = {baseline_bytes_per_request!r} is "
                             "not a positive finite number of bytes", **kw)
    base = float(baseline_bytes_per_request)
    low, high = base / factor, base * factor
    bounds = (round(low, 3), round(high, 3))
    kw["threshold"] = bounds
    if not isinstance(deltas, NetworkDeltas) or not all(isinstance(p, PodDelta) for p in deltas.pods):
        return Verdict.error(criterion, f"the network window is not a reading ({type(deltas).__name__})", **kw)
    ev = _evidence(deltas, requests, bounds)
    kw["evidence"] = (ev,)
    if not deltas.pods:
        return Verdict.inconclusive(criterion, f"the window is empty: no pod selected by {deltas.selector!r} "
                                    f"in {deltas.namespace}", **kw)
    if not _number(deltas.elapsed_s) or deltas.elapsed_s <= 0:
        return Verdict.error(criterion, f"the window's length {deltas.elapsed_s!r} s is not a duration", **kw)
    unmeasured = [p for p in deltas.pods if p.state in (DeltaState.UNMEASURED, DeltaState.RESET)]
    if unmeasured:
        return Verdict.error(criterion, "bytes not counted: " + "; ".join(p.note or f"pod {p.pod}: {p.state}"
                                                                          for p in unmeasured), **kw)
    changed = [p for p in deltas.pods if p.state is not DeltaState.MEASURED]
    if changed:
        return Verdict.inconclusive(criterion, "the window does not cover every pod whole: " + "; ".join(
            p.note or f"pod {p.pod}: {p.state}" for p in changed) + "; measure again over a stable window", **kw)
    bad = [p for p in deltas.pods if not all(_number(b) and b >= 0 for b in (p.rx_bytes, p.tx_bytes))]
    if bad:
        return Verdict.error(criterion, "byte counts that are not counts (" + ", ".join(
            f"{p.pod}: rx {p.rx_bytes!r}, tx {p.tx_bytes!r}" for p in bad) + ")", **kw)
    totals = [float(p.rx_bytes) + float(p.tx_bytes) for p in deltas.pods]  # type: ignore[arg-type]
    if isinstance(requests, bool) or not _number(requests) or requests < 0 or requests != int(requests):
        return Verdict.error(criterion, f"the request count {requests!r} from the metric source is not a count", **kw)
    served = int(requests)
    total = sum(totals)
    window = f"{deltas.elapsed_s:.3g} s"
    if served < min_requests:
        return Verdict.inconclusive(criterion, f"{served} requests served in {window}, at least {min_requests} "
                                    f"are needed to judge bytes per request ({_fmt(total)} bytes moved)",
                                    observed=served, **kw)
    per_request = total / served
    per_pod = ", ".join(f"{p.pod} rx {_fmt(p.rx_bytes or 0)} + tx {_fmt(p.tx_bytes or 0)}" for p in deltas.pods)
    text = (f"{_fmt(total)} bytes over {len(deltas.pods)} pod(s) / {served} requests in {window} = "
            f"{_fmt(per_request)} bytes per request vs baseline {_fmt(base)} x/÷ factor {factor:g} "
            f"(allowed {_fmt(low)} .. {_fmt(high)}); {per_pod}")
    observed = round(per_request, 3)
    if per_request > high:
        return Verdict.failed(criterion, observed, round(high, 3),
                              f"above baseline x {factor:g} = {_fmt(high)}: {text}", **_without(kw, "threshold"))
    if per_request < low:
        return Verdict.failed(criterion, observed, round(low, 3),
                              f"below baseline / {factor:g} = {_fmt(low)}: {text}", **_without(kw, "threshold"))
    return Verdict.passed(criterion, observed, bounds, text, **_without(kw, "threshold"))


def _without(kw: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if k != key}
