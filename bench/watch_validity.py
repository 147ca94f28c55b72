"""Watch validity benchmark: false rollbacks over a whole watch, and detection delay.

A release is watched for a window (here the guide's 2-hour watch after a switch) and the
error-rate trigger is evaluated every poll. This bench feeds simulated polls - Poisson
traffic at a fixed rate, binomial errors at a true error rate - to two rules, side by
side, on the same grid of healthy error rates x poll intervals x traffic rates:

* before   Wald's SPRT restarted after every "healthy" decision (the former
           ``ContinuousErrorRate``): each restart spends the false-rollback budget again;
* window   goldgate's window-wide test (:mod:`goldgate.criteria.watch_error_rate`), the
           vectorised form of :class:`~goldgate.criteria.watch_error_rate.WatchErrorRate`
           (checked against it on the first watches of every cell).

Printed per cell: the share of healthy watches rolled back (a false rollback). The
target is at most ``alpha`` (1 %) in every cell.

Detection: the error rate rises from p0 (0.5 %) to p1 (2 %) at a random moment of the
poll that starts halfway through the window. The delay (seconds from the rise to the
poll that rolls back) is compared with a reference: a Bernoulli CUSUM that sees every
request in order (per-request LLR, reset at 0), whose threshold is tuned by simulation
to the same false-alarm rate (1 % per watch at p0), and that can act at the same polls.
``detection_delay_ratio`` is the largest ratio of median delays over the cells (target
at most 1.5).

Run: .venv/bin/python bench/watch_validity.py [--watches 2000] [--seed 1] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from goldgate.criteria.sprt import GUIDE_DEFAULTS, SprtParams
from goldgate.criteria.watch_error_rate import WatchErrorRate, WatchPlan

HORIZON_S = 7200.0
HEALTHY_RATES = (0.003, 0.004, 0.005)
#: (requests per second, poll interval in seconds): the cells of the issue's measurement
CELLS = ((20.0, 60.0), (20.0, 30.0), (5.0, 60.0), (2.0, 60.0), (20.0, 1.0))


def _plan(params: SprtParams, interval: float) -> WatchPlan:
    return WatchPlan(params, horizon_s=HORIZON_S, max_gap_s=3 * interval)


def _thresholds(plan: WatchPlan, polls: int, interval: float) -> np.ndarray:
    """Each boundary's threshold for a regular schedule (infinite: not a starting point)."""
    out, nxt = [], 0.0
    for j in range(polls):
        h, nxt = plan.start_point(j * interval, (j + 1) * interval, nxt)
        out.append(h)
    return np.array(out)


def _poll_counts(rng: np.random.Generator, watches: int, polls: int, rate: float, interval: float,
                 p: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    n = rng.poisson(rate * interval, size=(watches, polls))
    return n, rng.binomial(n, p)


def window_rule(params: SprtParams, h: np.ndarray, n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Poll index of the window test's rollback per watch (-1: none). Same arithmetic as
    WatchErrorRate.observe, vectorised over watches."""
    watches, polls = n.shape
    a, b = params.per_error, params.per_success
    llr = np.zeros(watches)
    best = np.full(watches, -np.inf)
    best_n = np.zeros(watches)
    best_k = np.zeros(watches)
    tot_n = np.zeros(watches)
    tot_k = np.zeros(watches)
    alarm = np.full(watches, -1)
    for j in range(polls):
        cand = -llr - h[j]
        better = cand > best
        best = np.where(better, cand, best)
        best_n = np.where(better, tot_n, best_n)
        best_k = np.where(better, tot_k, best_k)
        llr = llr + k[:, j] * a + (n[:, j] - k[:, j]) * b
        tot_n = tot_n + n[:, j]
        tot_k = tot_k + k[:, j]
        seg_n, seg_k = tot_n - best_n, tot_k - best_k
        fire = (llr + best >= 0) & (seg_n > 0) & (seg_k > params.limit * seg_n) & (alarm < 0)
        alarm = np.where(fire, j, alarm)
    return alarm


def restarted_sprt(params: SprtParams, n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Poll index of the former rule's rollback (-1: none): SPRT restarted after each PASS."""
    watches, polls = n.shape
    seg_n = np.zeros(watches)
    seg_k = np.zeros(watches)
    alarm = np.full(watches, -1)
    for j in range(polls):
        seg_n = seg_n + n[:, j]
        seg_k = seg_k + k[:, j]
        llr = seg_k * params.per_error + (seg_n - seg_k) * params.per_success
        rate_ok = seg_n > 0
        fail = (llr >= params.upper) & rate_ok & (seg_k > params.limit * seg_n) & (alarm < 0)
        alarm = np.where(fail, j, alarm)
        passed = (llr <= params.lower) & rate_ok & (seg_k <= params.limit * seg_n)
        seg_n = np.where(passed, 0, seg_n)
        seg_k = np.where(passed, 0, seg_k)
    return alarm


def _self_check(params: SprtParams, plan: WatchPlan, interval: float, n: np.ndarray, k: np.ndarray,
                alarm: np.ndarray, watches: int = 3) -> None:
    """The vectorised rule must decide exactly as the criterion's own class."""
    for w in range(min(watches, n.shape[0])):
        test = WatchErrorRate(plan)
        got = -1
        for j in range(n.shape[1]):
            if test.observe(int(n[w, j]), int(k[w, j]), interval).alarm is not None:
                got = j
                break
        if got != alarm[w]:
            raise AssertionError(f"vectorised window rule disagrees with WatchErrorRate: watch {w} alarm at "
                                 f"poll {alarm[w]} vs {got}")


# ----------------------------------------------------------------------------- reference CUSUM
def _cusum_max(rng: np.random.Generator, params: SprtParams, watches: int, requests: int, p: float) -> np.ndarray:
    """Max over ``requests`` of the per-request Bernoulli CUSUM at error rate ``p``.

    Between errors the CUSUM falls by |b| per success (floored at 0) and jumps by ``a`` at an
    error, so it peaks right after errors: simulated from the geometric gaps between errors.
    """
    a, b = params.per_error, -params.per_success
    s = np.zeros(watches)
    m = np.zeros(watches)
    pos = np.zeros(watches)
    for _ in range(int(requests * p * 1.5 + 50)):
        gap = rng.geometric(p, size=watches)  # requests up to and including the next error
        pos = pos + gap
        live = pos <= requests
        s = np.where(live, np.maximum(0.0, s - (gap - 1) * b) + a, s)
        m = np.maximum(m, np.where(live, s, 0.0))
        if not live.any():
            break
    return m


def _cusum_delay(rng: np.random.Generator, params: SprtParams, watches: int, pre_requests: np.ndarray,
                 h: float) -> tuple[np.ndarray, np.ndarray]:
    """Requests from the rise to the reference CUSUM's crossing; and whether it false-alarmed first."""
    a, b = params.per_error, -params.per_success
    p0, p1 = params.p0, params.p1
    s = np.zeros(watches)
    pos = np.zeros(watches)
    false_alarm = np.zeros(watches, dtype=bool)
    active = np.ones(watches, dtype=bool)
    while active.any():  # before the rise, at p0
        gap = rng.geometric(p0, size=watches)
        nxt = pos + gap
        still = active & (nxt <= pre_requests)
        s = np.where(still, np.maximum(0.0, s - (gap - 1) * b) + a, s)
        false_alarm |= still & (s >= h)
        pos = np.where(still, nxt, pos)
        active = still
    s = np.maximum(0.0, s - (pre_requests - pos) * b)  # successes up to the rise
    after = np.zeros(watches)
    crossed = np.zeros(watches, dtype=bool)
    for _ in range(100_000):
        if crossed.all():
            break
        gap = rng.geometric(p1, size=watches)
        go = ~crossed
        after = np.where(go, after + gap, after)
        s = np.where(go, np.maximum(0.0, s - (gap - 1) * b) + a, s)
        crossed |= go & (s >= h)
    return after, false_alarm


def _reference_threshold(rng: np.random.Generator, params: SprtParams, rate: float, watches: int) -> float:
    m = _cusum_max(rng, params, watches, int(rate * HORIZON_S), params.p0)
    return float(np.quantile(m, 1 - params.alpha))


# ----------------------------------------------------------------------------- the run
def run(watches: int, seed: int, quick: bool) -> dict:
    params = GUIDE_DEFAULTS
    rng = np.random.default_rng(seed)
    grid = []
    delays = []
    ref_h: dict[float, float] = {}
    for rate, interval in CELLS:
        polls = int(HORIZON_S / interval)
        plan = _plan(params, interval)
        h = _thresholds(plan, polls, interval)
        for p in HEALTHY_RATES:
            n, k = _poll_counts(rng, watches, polls, rate, interval, p)
            ours = window_rule(params, h, n, k)
            _self_check(params, plan, interval, n, k, ours)
            before = restarted_sprt(params, n, k)
            grid.append({"rate_rps": rate, "interval_s": interval, "healthy_rate": p,
                         "false_rollback_window": float((ours >= 0).mean()),
                         "false_rollback_before": float((before >= 0).mean())})
        # detection: rise from p0 to p1 at a random moment of the poll that starts halfway
        half = polls // 2
        offset = rng.uniform(0, interval, size=watches)
        rise_t = half * interval + offset
        pre = np.zeros((watches, polls))
        pre[:, :half] = rate * interval
        pre[:, half] = rate * offset
        post = rate * interval - pre
        post[:, :half] = 0
        n_pre = rng.poisson(pre)
        n_post = rng.poisson(post)
        k = rng.binomial(n_pre, params.p0) + rng.binomial(n_post, params.p1)
        n = n_pre + n_post
        ours = window_rule(params, h, n, k)
        ok = ours >= half
        our_delay = (ours[ok] + 1) * interval - rise_t[ok]
        if rate not in ref_h:
            ref_h[rate] = _reference_threshold(rng, params, rate, watches * (2 if quick else 4))
        pre_req = np.floor(rise_t * rate)
        after, fa = _cusum_delay(rng, params, watches, pre_req, ref_h[rate])
        alarm_t = rise_t + after / rate
        ref_alarm = np.ceil(alarm_t / interval - 1e-9) * interval  # it can act at the same polls
        ref_delay = (ref_alarm - rise_t)[~fa]
        before = restarted_sprt(params, n, k)
        okb = before >= half
        delays.append({
            "rate_rps": rate, "interval_s": interval,
            "window_threshold": round(float(np.min(h[half:])), 3), "reference_threshold": round(ref_h[rate], 3),
            "median_delay_window_s": round(float(np.median(our_delay)), 1),
            "median_delay_reference_s": round(float(np.median(ref_delay)), 1),
            "median_delay_before_s": round(float(np.median((before[okb] + 1) * interval - rise_t[okb])), 1),
            "ratio": round(float(np.median(our_delay) / np.median(ref_delay)), 3),
            "missed_in_window": float((ours < 0).mean()),
        })
    return {
        "watches_per_cell": watches, "horizon_s": HORIZON_S, "alpha": params.alpha,
        "p0": params.p0, "p1": params.p1,
        "false_rollback_max": max(c["false_rollback_window"] for c in grid),
        "false_rollback_max_before": max(c["false_rollback_before"] for c in grid),
        "detection_delay_ratio": max(d["ratio"] for d in delays),
        "grid": grid, "detection": delays,
    }


def _print(result: dict, seconds: float) -> None:
    print(f"2-hour watch, {result['watches_per_cell']} watches per cell; alpha {result['alpha']:g} per watch")
    print(f"{'traffic':>9} {'poll':>6} {'healthy':>8} {'false rollbacks: before':>24} {'window':>8}")
    for c in result["grid"]:
        print(f"{c['rate_rps']:>6g}/s {c['interval_s']:>5g}s {c['healthy_rate'] * 100:>7.1f}% "
              f"{c['false_rollback_before'] * 100:>23.1f}% {c['false_rollback_window'] * 100:>7.2f}%")
    print()
    print(f"rise {result['p0'] * 100:g} % -> {result['p1'] * 100:g} % halfway: median delay (s)")
    print(f"{'traffic':>9} {'poll':>6} {'h window':>9} {'h ref':>7} {'before':>8} {'window':>8} {'reference':>10} "
          f"{'ratio':>6}")
    for d in result["detection"]:
        print(f"{d['rate_rps']:>6g}/s {d['interval_s']:>5g}s {d['window_threshold']:>9.2f} "
              f"{d['reference_threshold']:>7.2f} {d['median_delay_before_s']:>8.1f} "
              f"{d['median_delay_window_s']:>8.1f} {d['median_delay_reference_s']:>10.1f} {d['ratio']:>6.2f}")
    print()
    print(f"false_rollback_max {result['false_rollback_max'] * 100:.2f} % (before: "
          f"{result['false_rollback_max_before'] * 100:.1f} %), target <= {result['alpha'] * 100:g} %")
    print(f"detection_delay_ratio {result['detection_delay_ratio']:.2f}, target <= 1.5   ({seconds:.0f}s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--watches", type=int, default=None, help="watches per cell (default 2000, --quick 200)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="few watches: a smoke run for the tests")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    watches = args.watches or (200 if args.quick else 2000)
    if watches < 10:
        print("watch_validity: --watches must be at least 10", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = run(watches, args.seed, args.quick)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(result, indent=2, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x))
    else:
        _print(result, result["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
