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

Bursty errors. The same cells with the per-poll error probability drawn afresh every poll
from a Beta distribution around the healthy rate (concentration inf - independent
errors -, 1000, 200, 50: variance ratios of per-minute counts at 20/s of about 1, 2, 7 and
25), in two settings: shared bursts (a canary beside a stable with nine times its traffic,
both drawing the same per-poll probability; the paired test
:mod:`goldgate.criteria.paired_error_rate`) and a lone release (the dispersion-robust test
:mod:`goldgate.criteria.lone_error_rate`, estimating the dispersion from its own polls
after the environment's default). ``false_rollback_max_bursty`` is the largest share of
healthy watches rolled back over all those cells (target at most 1 %); the former window
test on the lone bursty watches is shown beside it. Detection: the canary's probability
becomes four times the shared burst (0.5 % -> 2 % on average) at the poll halfway;
``detection_delay_ratio_bursty`` is the largest ratio of median delays against a reference
that knows the true concentration: the exact beta-binomial CUSUM on the release's counts,
its threshold tuned by simulation to 1 % false alarms per watch under the same bursts,
acting at the same polls (target at most 1.5).

Bursty latency. The p95-vs-baseline rule (2x) of a canary beside its stable pods, 2-hour
watches at 2, 5 and 20 req/s, when a share of polls (1, 5, 20 %) is 3x slower for both
versions at once: ``false_rollback_max_bursty_latency`` (target at most 1 %). The same
windows against a stored baseline: the lone latency rule (:mod:`goldgate.criteria.lone_latency`,
requests slower than 2x the stored p95 counted per poll and tested against 5 %),
``false_rollback_max_bursty_latency_lone`` (target at most 1 %), with the former rule (the
window's p95 against 2x the stored one) shown beside it; and a release 2.5x slower from the
poll halfway, with and without bursts: median delay and share detected, both rules.

Run: .venv/bin/python bench/watch_validity.py [--watches 2000] [--seed 1] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from statistics import NormalDist

import numpy as np

from goldgate.criteria.lone_error_rate import (
    _C_MAX,
    _GRID_POINTS,
    _GRID_STEP,
    CONTRADICTION_MARGIN,
    DISPERSION_MARGIN,
    MIN_ERRORS,
    DispersionSetting,
    LoneErrorRate,
)
from goldgate.criteria.lone_latency import LoneLatency, exceedance_params, lone_latency
from goldgate.criteria.paired_error_rate import PairedErrorRate
from goldgate.criteria.sprt import GUIDE_DEFAULTS, SprtParams
from goldgate.criteria.watch_error_rate import WatchErrorRate, WatchPlan
from goldgate.verdict import Status

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


# ----------------------------------------------------------------------------- bursty errors
CONCENTRATIONS = (math.inf, 1000.0, 200.0, 50.0)
#: the stable's traffic beside a canary, in multiples of the canary's (a 10 % canary)
STABLE_SHARE = 9.0
#: healthy watches simulated to tune the bursty reference's threshold, per watch of the cell
REFERENCE_WATCHES = 4
_LN_2PI = math.log(2 * math.pi)


def _lgamma(x: np.ndarray) -> np.ndarray:
    """ln Gamma(x) for x > 0, vectorised: Stirling's series after shifting x up by 6."""
    prod = x * (x + 1) * (x + 2) * (x + 3) * (x + 4) * (x + 5)
    z = x + 6.0
    zi = 1.0 / z
    zi2 = zi * zi
    series = zi * (1 / 12 - zi2 * (1 / 360 - zi2 / 1260))
    return (z - 0.5) * np.log(z) - z + 0.5 * _LN_2PI + series - np.log(prod)


def _bb_llr(p0: float, p1: float, n: np.ndarray, k: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Beta-binomial log likelihood ratio p1 vs p0 at concentration c (inf: binomial)."""
    binom = k * math.log(p1 / p0) + (n - k) * math.log((1 - p1) / (1 - p0))
    finite = np.isfinite(c)
    cc = np.where(finite, c, 1.0)
    a0, a1, b0, b1 = cc * p0, cc * p1, cc * (1 - p0), cc * (1 - p1)
    m = n - k
    bb = (_lgamma(k + a1) - _lgamma(a1) - _lgamma(k + a0) + _lgamma(a0)
          + _lgamma(m + b1) - _lgamma(b1) - _lgamma(m + b0) + _lgamma(b0))
    return np.where(finite, bb, binom)


def _allowed_rho(setting: DispersionSetting, st: dict[str, np.ndarray], n: np.ndarray,
                 d: float, margin: float = DISPERSION_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """LoneErrorRate's allowance for the next poll, vectorised (no history: its own polls only;
    a configured dispersion is the upper end, the estimate's lower end the lower once there is
    history enough, and the estimate's range stands where the errors contradict it)."""
    polls, sn, sk, pairs = st["polls"], st["sn"], st["sk"], st["pairs"]
    t_sn = sn + n
    use_t = t_sn > 0
    r_sn = np.where(use_t, t_sn, sn)
    r_polls = np.where(use_t, polls + (n > 0), polls)
    r_secs = st["secs"] + d
    with np.errstate(divide="ignore", invalid="ignore"):
        r_mean = np.where(r_polls > 0, r_sn / np.maximum(r_polls, 1), 0.0)
        per_minute = np.where(r_secs > 0, 60.0 * r_sn / np.where(r_secs > 0, r_secs, 1.0), r_mean)
        s_mean = np.where(polls > 0, sn / np.maximum(polls, 1), 0.0)
        n_bar = np.maximum(r_mean, s_mean)
        n_eff = np.where(n_bar > 0, np.minimum(per_minute, n_bar), per_minute)
        default = np.where(n_eff <= 1, 1.0,
                           np.minimum(1.0, (setting.default - 1) / np.where(n_eff > 1, n_eff - 1, 1.0)))
        defined = (sk > 0) & (pairs > 0) & (st["vrest"] > 0)
        rho_hat = np.maximum(0.0, (st["d2"] - st["vinv"]) / np.where(defined, st["vrest"], 1.0))
        phi_hat = 1 + (n_bar - 1) * rho_hat
        spread = 1 + margin * np.sqrt(2 / np.maximum(pairs, 1))
        phi_hi, phi_lo = phi_hat * spread, phi_hat / spread
        nb1 = np.where(n_bar > 1, n_bar - 1, 1.0)
        est = np.where(n_bar > 1, np.minimum(1.0, (phi_hi - 1) / nb1), 1.0)
        est_lo = np.where(n_bar > 1, np.minimum(est, np.maximum(0.0, (phi_lo - 1) / nb1)), 0.0)
    enough = defined & (pairs >= setting.min_polls) & (sk >= MIN_ERRORS)
    if setting.configured is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            stated = np.where(n_eff <= 1, 1.0,
                              np.minimum(1.0, (setting.configured - 1) / np.where(n_eff > 1, n_eff - 1, 1.0)))
            doubt = phi_hat / (1 + CONTRADICTION_MARGIN * np.sqrt(2 / np.maximum(pairs, 1)))
            beyond_doubt = np.minimum(1.0, np.maximum(0.0, (doubt - 1) / nb1))
        narrowed = enough & (n_bar > 1) if setting.lower_from_estimate else np.zeros_like(enough)
        contradicted = narrowed & (beyond_doubt > stated)
        return (np.where(contradicted, est, stated),
                np.where(contradicted, est_lo, np.where(narrowed, np.minimum(stated, est_lo), 0.0)))
    return np.where(enough, est, default), np.where(enough, est_lo, 0.0)


def _robust_up(params: SprtParams, n: np.ndarray, k: np.ndarray, rho: np.ndarray,
               rho_lo: np.ndarray) -> np.ndarray:
    """min over LoneErrorRate's concentration grid of the poll's log ratio, vectorised."""
    top = np.where(rho_lo > 0, 1 / np.where(rho_lo > 0, rho_lo, 1.0) - 1, np.inf)
    # no dispersion allowed at all (rho 0): independent requests only, as concentrations() says
    c_lo = np.where(rho > 0, np.maximum(1e-3, 1 / np.where(rho > 0, rho, 1.0) - 1), np.inf)
    span = np.minimum(top, _C_MAX)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.maximum(_GRID_STEP, np.where(np.isfinite(c_lo), (span / c_lo) ** (1 / _GRID_POINTS), _GRID_STEP))
    end = np.where(top < _C_MAX, top, np.inf)
    out = _bb_llr(params.p0, params.p1, n, k, end)
    cols, c = [], c_lo.copy()
    for _ in range(_GRID_POINTS):
        live = c < span
        if not live.any():
            break
        cols.append(np.where(live, c, end))
        c = c * step
    if cols:
        v = _bb_llr(params.p0, params.p1, n[:, None], k[:, None], np.stack(cols, axis=1))
        out = np.minimum(out, v.min(axis=1))
    return out


def lone_rule(params: SprtParams, h: np.ndarray, n: np.ndarray, k: np.ndarray, interval: float,
              setting: DispersionSetting, margin: float = DISPERSION_MARGIN,
              exact_rho: float | None = None) -> np.ndarray:
    """Poll index of the lone test's rollback per watch (-1: none); LoneErrorRate vectorised
    (``margin``: the standard errors of dispersion it allows; the criterion's own by default).
    ``exact_rho``: the same window test with the beta-binomial ratio at this one correlation
    (bench only: no environment can state a dispersion as exact)."""
    watches, polls = n.shape
    z = np.zeros(watches)
    st = {key: z.copy() for key in ("polls", "sn", "sk", "pairs", "d2", "vinv", "vrest", "secs", "ln", "lk")}
    llr, best, total = z.copy(), np.full(watches, -np.inf), np.full(watches, -np.inf)
    best_n, best_k, tot_n, tot_k = z.copy(), z.copy(), z.copy(), z.copy()
    alarm = np.full(watches, -1)
    for j in range(polls):
        nj, kj = n[:, j].astype(float), k[:, j].astype(float)
        live = alarm < 0
        if exact_rho is None:
            rho, rho_lo = _allowed_rho(setting, st, nj, interval, margin)
        else:
            rho = rho_lo = np.full(watches, exact_rho)
        up = np.zeros(watches)
        go = live & (nj > 0)
        if go.any():
            up[go] = _robust_up(params, nj[go], kj[go], rho[go], rho_lo[go])
        cand = -llr - h[j]
        better = cand > best
        best = np.where(better, cand, best)
        total = np.logaddexp(total, cand)
        best_n = np.where(better, tot_n, best_n)
        best_k = np.where(better, tot_k, best_k)
        llr = llr + up
        tot_n, tot_k = tot_n + nj, tot_k + kj
        seg_n, seg_k = tot_n - best_n, tot_k - best_k
        fire = live & (llr + total >= 0) & (seg_n > 0) & (seg_k > params.limit * seg_n)
        alarm = np.where(fire, j, alarm)
        has = nj > 0
        pair = has & (st["ln"] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = kj / np.where(has, nj, 1.0) - st["lk"] / np.where(st["ln"] > 0, st["ln"], 1.0)
            inv = 1 / np.where(has, nj, 1.0) + 1 / np.where(st["ln"] > 0, st["ln"], 1.0)
            x = (kj + st["lk"]) / np.where(pair, nj + st["ln"], 1.0)
        v = x * (1 - x)
        st["pairs"] = st["pairs"] + pair
        st["d2"] = st["d2"] + np.where(pair, diff * diff, 0.0)
        st["vinv"] = st["vinv"] + np.where(pair, v * inv, 0.0)
        st["vrest"] = st["vrest"] + np.where(pair, v * (2 - inv), 0.0)
        st["polls"] = st["polls"] + has
        st["sn"], st["sk"] = st["sn"] + nj, st["sk"] + kj
        st["ln"], st["lk"] = np.where(has, nj, 0.0), np.where(has, kj, 0.0)
        st["secs"] = st["secs"] + interval
    return alarm


def paired_rule(params: SprtParams, h: np.ndarray, n: np.ndarray, k: np.ndarray, ns: np.ndarray,
                ks: np.ndarray) -> np.ndarray:
    """Poll index of the paired test's rollback per watch (-1: none); PairedErrorRate vectorised."""
    watches, polls = n.shape
    rho = params.p1 / params.p0
    z = np.zeros(watches)
    llr, best, total = z.copy(), np.full(watches, -np.inf), np.full(watches, -np.inf)
    b = {key: z.copy() for key in ("n", "k", "ns", "ks")}
    t = {key: z.copy() for key in ("n", "k", "ns", "ks")}
    alarm = np.full(watches, -1)
    for j in range(polls):
        nj, kj, nsj, ksj = n[:, j], k[:, j], ns[:, j], ks[:, j]
        ok = (nj > 0) & (nsj > 0) & (kj + ksj > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            q0 = nj / (nj + nsj)
            q1 = rho * nj / (rho * nj + nsj)
            step = kj * np.log(q1 / q0) + ksj * np.log((1 - q1) / (1 - q0))
        step = np.where(ok, step, 0.0)
        cand = -llr - h[j]
        better = cand > best
        best = np.where(better, cand, best)
        total = np.logaddexp(total, cand)
        for key in b:
            b[key] = np.where(better, t[key], b[key])
        llr = llr + step
        t["n"], t["k"], t["ns"], t["ks"] = t["n"] + nj, t["k"] + kj, t["ns"] + nsj, t["ks"] + ksj
        sn, sk, sns, sks = (t[key] - b[key] for key in ("n", "k", "ns", "ks"))
        with np.errstate(divide="ignore", invalid="ignore"):
            own = (sn > 0) & (sk > params.limit * sn) & ((sns == 0) | (sk * sns > sks * sn))
        fire = (llr + total >= 0) & own & (alarm < 0)
        alarm = np.where(fire, j, alarm)
    return alarm


def _self_check_bursty(params: SprtParams, plan: WatchPlan, interval: float, setting: DispersionSetting,
                       n: np.ndarray, k: np.ndarray, alarm: np.ndarray, ns: np.ndarray | None = None,
                       ks: np.ndarray | None = None, watches: int = 2) -> None:
    """The vectorised rules must decide exactly as the criteria's own classes."""
    for w in range(min(watches, n.shape[0])):
        test: PairedErrorRate | LoneErrorRate = PairedErrorRate(plan) if ns is not None else LoneErrorRate(
            plan, setting)
        got = -1
        for j in range(n.shape[1]):
            if isinstance(test, PairedErrorRate):
                assert ns is not None and ks is not None
                state = test.observe(int(n[w, j]), int(k[w, j]), int(ns[w, j]), int(ks[w, j]), interval)
            else:
                state = test.observe(int(n[w, j]), int(k[w, j]), interval)
            if state.alarm is not None:
                got = j
                break
        if got != alarm[w]:
            raise AssertionError(f"vectorised {type(test).__name__} disagrees with the class: watch {w} alarm at "
                                 f"poll {alarm[w]} vs {got}")


def _burst_p(rng: np.random.Generator, shape: tuple[int, int], p: float, c: float) -> np.ndarray | float:
    return p if math.isinf(c) else rng.beta(c * p, c * (1 - p), size=shape)


def _reference_cusum(params: SprtParams, n: np.ndarray, k: np.ndarray, c: float) -> np.ndarray:
    """Page's CUSUM of the exact beta-binomial ratio at the true concentration: its path per poll."""
    watches, polls = n.shape
    s = np.zeros(watches)
    path = np.empty((watches, polls))
    cc = np.full(watches, c)
    for j in range(polls):
        s = np.maximum(0.0, s + _bb_llr(params.p0, params.p1, n[:, j].astype(float), k[:, j].astype(float), cc))
        path[:, j] = s
    return path


def _rise_watches(rng: np.random.Generator, params: SprtParams, rate: float, interval: float, polls: int,
                  c: float, watches: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | float, np.ndarray, int]:
    """Watches whose error probability becomes p1/p0 times the burst at a random moment of the
    poll halfway: requests, errors, the per-poll burst probability, the rise time, its poll."""
    shape = (watches, polls)
    half = polls // 2
    offset = rng.uniform(0, interval, size=watches)
    rise_t = half * interval + offset
    pj = _burst_p(rng, shape, params.p0, c)
    pre = np.zeros(shape)
    pre[:, :half] = rate * interval
    pre[:, half] = rate * offset
    n_pre, n_post = rng.poisson(pre), rng.poisson(rate * interval - pre)
    k = rng.binomial(n_pre, pj) + rng.binomial(n_post, np.minimum(1.0, pj * params.p1 / params.p0))
    return n_pre + n_post, k, pj, rise_t, half


def _reference_delay(rng: np.random.Generator, params: SprtParams, rate: float, interval: float, c: float,
                     n: np.ndarray, k: np.ndarray, rise_t: np.ndarray, half: int) -> tuple[float, float, np.ndarray]:
    """The reference that knows the true concentration, on the same watches: its median delay,
    its threshold, and per watch whether it crossed after the rise.

    The threshold gives 1 % false alarms per healthy watch under the same bursts, from
    REFERENCE_WATCHES times as many healthy watches (a 1 % quantile of 500 is its 5th largest
    value: too noisy to compare delays with)."""
    watches, polls = n.shape
    shape0 = (watches * REFERENCE_WATCHES, polls)
    n0 = rng.poisson(rate * interval, size=shape0)
    k0 = rng.binomial(n0, _burst_p(rng, shape0, params.p0, c))
    h_ref = float(np.quantile(_reference_cusum(params, n0, k0, c).max(axis=1), 1 - params.alpha))
    path = _reference_cusum(params, n, k, c)
    crossed = path[:, half:] >= h_ref
    ref_idx = np.where(crossed.any(axis=1), crossed.argmax(axis=1) + half, polls - 1)
    ref_ok = ~(path[:, :half] >= h_ref).any(axis=1)
    return float(np.median(((ref_idx + 1) * interval - rise_t)[ref_ok])), h_ref, crossed.any(axis=1)


def _median_delay(alarm: np.ndarray, half: int, polls: int, interval: float, rise_t: np.ndarray) -> float:
    """Median seconds from the rise to the rollback; a watch that never rolls back counts as
    delayed to the window's end, one rolled back before the rise is left out."""
    ok = (alarm >= half) | (alarm < 0)
    at = np.where(alarm >= 0, alarm, polls - 1)
    return float(np.median(((at + 1) * interval - rise_t)[ok]))


def run_bursty(watches: int, seed: int, cells: tuple[tuple[float, float], ...] = CELLS) -> dict:
    """False rollbacks of the paired and lone tests under bursts, and their detection delays."""
    params = GUIDE_DEFAULTS
    setting = DispersionSetting()
    rng = np.random.default_rng(seed + 1000)
    grid, delays = [], []
    for rate, interval in cells:
        polls = int(HORIZON_S / interval)
        plan = _plan(params, interval)
        h = _thresholds(plan, polls, interval)
        shape = (watches, polls)
        for c in CONCENTRATIONS:
            for p in HEALTHY_RATES:
                pj = _burst_p(rng, shape, p, c)
                n = rng.poisson(rate * interval, size=shape)
                k = rng.binomial(n, pj)
                ns = rng.poisson(STABLE_SHARE * rate * interval, size=shape)
                ks = rng.binomial(ns, pj)
                paired = paired_rule(params, h, n, k, ns, ks)
                _self_check_bursty(params, plan, interval, setting, n, k, paired, ns, ks)
                lone = lone_rule(params, h, n, k, interval, setting)
                _self_check_bursty(params, plan, interval, setting, n, k, lone)
                window = window_rule(params, h, n, k)
                grid.append({"rate_rps": rate, "interval_s": interval, "concentration": c, "healthy_rate": p,
                             "false_rollback_paired": float((paired >= 0).mean()),
                             "false_rollback_lone": float((lone >= 0).mean()),
                             "false_rollback_window_lone": float((window >= 0).mean())})
            # detection: the canary's probability becomes p1/p0 times the shared burst halfway
            n, k, pj, rise_t, half = _rise_watches(rng, params, rate, interval, polls, c, watches)
            ns = rng.poisson(STABLE_SHARE * rate * interval, size=shape)
            ks = rng.binomial(ns, pj)
            ref_delay, h_ref, ref_crossed = _reference_delay(rng, params, rate, interval, c, n, k, rise_t, half)
            row = {"rate_rps": rate, "interval_s": interval, "concentration": c,
                   "reference_threshold": round(h_ref, 3), "median_delay_reference_s": round(ref_delay, 1),
                   "missed_reference": float((~ref_crossed).mean())}
            for name, alarm in (("paired", paired_rule(params, h, n, k, ns, ks)),
                                ("lone", lone_rule(params, h, n, k, interval, setting))):
                d = _median_delay(alarm, half, polls, interval, rise_t)
                row[f"median_delay_{name}_s"] = round(d, 1)
                row[f"missed_{name}"] = float((alarm < 0).mean())
                row[f"ratio_{name}"] = round(d / ref_delay, 3)
            delays.append(row)
    fr = [max(g["false_rollback_paired"], g["false_rollback_lone"]) for g in grid]
    ratios = [d[f"ratio_{name}"] for d in delays for name in ("paired", "lone")]
    return {"watches_per_cell_bursty": watches, "cells_bursty": [list(c) for c in cells],
            "false_rollback_max_bursty": max(fr),
            "false_rollback_max_bursty_paired": max(g["false_rollback_paired"] for g in grid),
            "false_rollback_max_bursty_lone": max(g["false_rollback_lone"] for g in grid),
            "false_rollback_max_bursty_window_before": max(g["false_rollback_window_lone"] for g in grid),
            "detection_delay_ratio_bursty": max(r if not math.isnan(r) else math.inf for r in ratios),
            "detection_delay_ratio_bursty_paired": max(d["ratio_paired"] for d in delays),
            "detection_delay_ratio_bursty_lone": max(d["ratio_lone"] for d in delays),
            "bursty_grid": grid, "bursty_detection": delays}


#: the lone test's dispersion allowance in standard errors: the criterion's and narrower ones
LONE_MARGINS = (0.0, 0.25, 0.5, 1.0)


def true_dispersion(rate: float, interval: float, c: float, factor: float = 1.0) -> float:
    """The variance ratio of a minute's (or a shorter poll's) error counts at concentration ``c``,
    its excess over independent requests times ``factor``: what an environment that measured the
    dispersion exactly (factor 1), or half or twice it, would state as ``dispersion``."""
    n = rate * min(60.0, interval)
    return 1.0 if math.isinf(c) or n <= 1 else 1 + factor * (n - 1) / (c + 1)


#: the stated dispersions compared: its excess over independent requests half, equal and twice the truth's
STATED_FACTORS = (0.5, 1.0, 2.0)


def run_lone_margins(watches: int, seed: int, cells: tuple[tuple[float, float], ...] = CELLS,
                     margins: tuple[float, ...] = LONE_MARGINS,
                     stated_factors: tuple[float, ...] = STATED_FACTORS) -> dict:
    """The lone test on the same watches, side by side: at several dispersion allowances around
    its estimate (what narrowing the criterion's :data:`DISPERSION_MARGIN` would gain in delay and
    cost in false rollbacks); with a dispersion stated by the environment at, below and above the
    truth (what a team that states it gains, and what a wrong statement costs); and at the exact
    true concentration. The last is no configuration a team can choose; it measures what is left
    when nothing about the dispersion is unknown: the price of a bound that holds by Ville's
    inequality, which the reference, its threshold tuned by simulating the true bursts, does not pay."""
    params = GUIDE_DEFAULTS
    estimated = DispersionSetting()
    rng = np.random.default_rng(seed + 3000)
    variants = [("estimated", m) for m in margins] + [("stated", f) for f in stated_factors] + [("exact", 1.0)]
    fr = dict.fromkeys(variants, 0.0)
    ratio = dict.fromkeys(variants, 0.0)
    worst_cell: dict[tuple[str, float], list[float]] = {}

    def alarms(v: tuple[str, float], h: np.ndarray, n: np.ndarray, k: np.ndarray, rate: float, interval: float,
               c: float, plan: WatchPlan | None = None) -> np.ndarray:
        """The variant's rollbacks; with ``plan``, a stated variant is checked against the class."""
        kind, x = v
        if kind == "stated":
            told = DispersionSetting(configured=true_dispersion(rate, interval, c, x))
            alarm = lone_rule(params, h, n, k, interval, told)
            if plan is not None:
                _self_check_bursty(params, plan, interval, told, n, k, alarm)
            return alarm
        if kind == "exact":
            return lone_rule(params, h, n, k, interval, estimated, exact_rho=0.0 if math.isinf(c) else 1 / (c + 1))
        return lone_rule(params, h, n, k, interval, estimated, x)

    for rate, interval in cells:
        polls = int(HORIZON_S / interval)
        plan = _plan(params, interval)
        h = _thresholds(plan, polls, interval)
        shape = (watches, polls)
        for c in CONCENTRATIONS:
            for p in HEALTHY_RATES:
                n = rng.poisson(rate * interval, size=shape)
                k = rng.binomial(n, _burst_p(rng, shape, p, c))
                for v in variants:
                    fr[v] = max(fr[v], float((alarms(v, h, n, k, rate, interval, c, plan) >= 0).mean()))
            n, k, _, rise_t, half = _rise_watches(rng, params, rate, interval, polls, c, watches)
            ref_delay, _, _ = _reference_delay(rng, params, rate, interval, c, n, k, rise_t, half)
            for v in variants:
                r = _median_delay(alarms(v, h, n, k, rate, interval, c), half, polls, interval, rise_t) / ref_delay
                if r > ratio[v]:
                    ratio[v], worst_cell[v] = r, [rate, interval, c]
    return {"lone_margin_tradeoff": [
        {"dispersion": kind, "margin": x if kind == "estimated" else None,
         "stated_factor": x if kind == "stated" else None, "false_rollback_max": fr[(kind, x)],
         "detection_delay_ratio": round(ratio[(kind, x)], 3), "slowest_cell": worst_cell.get((kind, x)),
         "criterion": kind == "estimated" and x == DISPERSION_MARGIN} for kind, x in variants]}


def _print_lone_margins(result: dict) -> None:
    print()
    print("the lone test on the same watches: at narrower dispersion allowances around its estimate, with a "
          "dispersion stated by the environment (excess over independent requests x the truth's), and (bench "
          "only) at the exact true concentration (the criterion's is marked *)")
    print(f"{'dispersion':>16} {'false rollbacks, worst cell':>28} {'delay ratio, worst cell':>24} "
          f"{'slowest cell':>22}")
    for row in result["lone_margin_tradeoff"]:
        rate, interval, c = row["slowest_cell"] or (0, 0, 0)
        mark = "*" if row["criterion"] else " "
        if row["dispersion"] == "estimated":
            label = f"estimate {row['margin']:g} SE"
        elif row["dispersion"] == "stated":
            label = f"stated x{row['stated_factor']:g}"
        else:
            label = "exact"
        print(f"{label:>15}{mark} {row['false_rollback_max'] * 100:>27.2f}% "
              f"{row['detection_delay_ratio']:>24.2f} {rate:>7g}/s {interval:>4g}s conc {c:>5g}")


# ----------------------------------------------------------------------------- bursty latency
#: request latency of a healthy version: lognormal, median 100 ms, sigma 0.5 (p95 228 ms)
LAT_MEDIAN_S, LAT_SIGMA = 0.1, 0.5
#: shared latency bursts: a poll is slowed for both versions by SLOWDOWN with these probabilities
BURST_POLL_SHARES = (0.01, 0.05, 0.2)
SLOWDOWN = 3.0
#: log-spaced latency buckets 2 % wide from 100 ms to 3 s (plus under/overflow): the p95s compared
_LAT_EDGES = np.exp(np.arange(math.log(0.1), math.log(3.0), math.log(1.02)))


def _lat_probs(scale: float) -> np.ndarray:
    """Bucket probabilities of the lognormal latency times ``scale``."""
    z = (np.log(_LAT_EDGES / (LAT_MEDIAN_S * scale))) / LAT_SIGMA
    cdf = np.array([0.5 * math.erfc(-x / math.sqrt(2)) for x in z])
    return np.diff(np.concatenate([[0.0], cdf, [1.0]]))


def _p95_bucket(hist: np.ndarray) -> np.ndarray:
    """Index of the bucket holding the window's p95 (rank ceil(0.95 n)) per watch."""
    cum = np.cumsum(hist, axis=1)
    rank = np.ceil(0.95 * cum[:, -1:])
    return (cum < rank).sum(axis=1)


def _exceedance_split(hist: np.ndarray, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Requests certainly (buckets wholly above) and possibly (buckets reaching above) slower than
    ``limit_s`` per row of per-bucket counts: what :func:`goldgate.criteria.lone_latency.exceedances`
    reads from a poll's cumulative histogram."""
    upper = np.concatenate([_LAT_EDGES, [np.inf]])
    lower = np.concatenate([[0.0], _LAT_EDGES])
    return hist[..., lower >= limit_s].sum(axis=-1), hist[..., upper > limit_s].sum(axis=-1)


def lone_latency_rule(params: SprtParams, h: np.ndarray, n: np.ndarray, k_low: np.ndarray, k_high: np.ndarray,
                      interval: float, setting: DispersionSetting) -> np.ndarray:
    """Poll index of the lone latency rule's rollback per watch (-1: none): LoneLatency vectorised,
    the lone error-rate test on each count, FAIL once both have alarmed."""
    return lone_latency_alarms(params, h, n, k_low, k_high, interval, setting)[0]


def lone_latency_alarms(params: SprtParams, h: np.ndarray, n: np.ndarray, k_low: np.ndarray, k_high: np.ndarray,
                        interval: float, setting: DispersionSetting) -> tuple[np.ndarray, np.ndarray]:
    """(the rollback: both counts alarmed, the first alarm of either: no PASS from then on) per watch."""
    low = lone_rule(params, h, n, k_low, interval, setting)
    high = lone_rule(params, h, n, k_high, interval, setting)
    first = np.where((low >= 0) & (high >= 0), np.minimum(low, high), np.maximum(low, high))
    return np.where((low >= 0) & (high >= 0), np.maximum(low, high), -1), first


def lone_latency_passes(params: SprtParams, n: np.ndarray, k_high: np.ndarray, alarm: np.ndarray,
                        min_requests: int = 200, min_polls: int = 3) -> np.ndarray:
    """Per watch and poll: would the lone latency rule PASS (no alarm yet, enough requests and polls,
    the window's share's upper bound with the design effect within the limit)? WindowShare vectorised;
    traffic never stops in these cells, so max_gap_s never applies."""
    z = NormalDist().inv_cdf(1 - params.beta)
    has = n > 0
    m = np.cumsum(has, axis=1)
    nn = np.cumsum(n, axis=1).astype(float)
    kk = np.cumsum(k_high, axis=1).astype(float)
    n2 = np.cumsum(n.astype(float) ** 2, axis=1)
    k2 = np.cumsum(k_high.astype(float) ** 2, axis=1)
    nk = np.cumsum(n.astype(float) * k_high, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(nn > 0, kk / nn, 0.0)
        binom = s * (1 - s) / nn
        spread = (k2 - 2 * s * nk + s * s * n2) / (nn * nn)
        deff = np.where((m >= 2) & (binom > 0), np.maximum(1.0, spread * m / np.maximum(m - 1, 1) / binom), 1.0)
        eff = nn / deff
        ub = (s + z * z / (2 * eff) + z * np.sqrt(s * (1 - s) / eff + z * z / (4 * eff * eff))) / (1 + z * z / eff)
    polls = np.arange(n.shape[1])[None, :]
    quiet = (alarm[:, None] < 0) | (polls < alarm[:, None])
    return quiet & (nn >= min_requests) & (m >= min_polls) & (np.minimum(ub, 1.0) <= params.limit)


def _self_check_lone_latency(plan: WatchPlan, interval: float, setting: DispersionSetting, limit_s: float,
                             n: np.ndarray, k_low: np.ndarray, k_high: np.ndarray, alarm: np.ndarray,
                             alarm_dispersion: float, watches: int = 2, first: np.ndarray | None = None) -> None:
    """The vectorised rule must decide exactly as the criterion (FAIL at the same poll)."""
    for w in range(min(watches, n.shape[0])):
        test = LoneLatency(plan, limit_s / 2.0, 2.0, setting, alarm_dispersion=alarm_dispersion)
        got = -1
        quiet_until = (alarm if first is None else first)[w:w + 1]
        passes = lone_latency_passes(test.state.low.plan.params, n[w:w + 1], k_high[w:w + 1], quiet_until)[0]
        for j in range(n.shape[1]):
            verdict = lone_latency(test.observe(int(n[w, j]), int(k_low[w, j]), int(k_high[w, j]), interval))
            status = verdict.status
            if (status is Status.PASS) != bool(passes[j]):
                raise AssertionError(f"vectorised lone latency PASS disagrees with the criterion: watch {w} poll {j}: "
                                     f"{bool(passes[j])} vs {verdict.reason}")
            if status is Status.FAIL:
                got = j
                break
        if got != alarm[w]:
            raise AssertionError(f"vectorised lone latency rule disagrees with the criterion: watch {w} alarm at "
                                 f"poll {alarm[w]} vs {got}")


def run_bursty_latency(watches: int, seed: int, min_requests: int = 200, factor: float = 2.0,
                       alarm_dispersion: float = 300.0) -> dict:
    """False rollbacks of the p95-vs-baseline rules under latency bursts, and the lone rule's detection.

    Canary beside a stable with STABLE_SHARE times its traffic, judged every poll of a 2-hour
    window on the window's p95s (the rule of :func:`goldgate.criteria.latency.p95_vs_baseline`
    with a concurrent baseline): FAIL when the canary's p95 exceeds ``factor`` x the stable's,
    each with ``min_requests`` requests. The p95s are read from 2 %-wide buckets, the canary's
    at its bucket's upper edge and the stable's at its lower edge, so a bucket can only add
    rollbacks: the figure is an upper bound. Beside it, the same canary windows against a
    stored baseline (the healthy p95, as if no version ran beside the release; the p95 again at
    its bucket's upper edge): the former rule, FAIL when the window's p95 exceeds ``factor`` x
    it, and the lone rule (:mod:`goldgate.criteria.lone_latency`: per-poll counts of requests
    slower than ``factor`` x the stored p95, tested against 5 % with the dispersion-robust
    window test), whose false rollbacks are ``false_rollback_max_bursty_latency_lone``.

    Detection: the release becomes 2.5x slower (its true p95 2.5x the stored one) from the poll
    halfway through the window, with no bursts and with each share of 3x-slower polls on top:
    median delay from the rise to the rollback, and the share of watches rolled back after it,
    for the lone rule and the former stored-baseline rule.
    """
    rng = np.random.default_rng(seed + 2000)
    base_size = _LAT_EDGES.size + 1
    stored_p95 = LAT_MEDIAN_S * math.exp(1.6448536269514722 * LAT_SIGMA)
    limit_s = factor * stored_p95
    upper = np.concatenate([_LAT_EDGES, [np.inf]])
    lower = np.concatenate([[0.0], _LAT_EDGES])
    ex = exceedance_params(GUIDE_DEFAULTS)
    setting = DispersionSetting()
    # the alarm's fixed allowance: LoneLatency's alarm tests (configured dispersion) are the
    # default branch of _allowed_rho when the estimate never takes over
    fixed = DispersionSetting(default=alarm_dispersion, min_polls=10**9)
    probs = np.stack([_lat_probs(x) for x in (1.0, SLOWDOWN, 2.5, 2.5 * SLOWDOWN)])
    cells, detection = [], []
    for rate, interval in ((20.0, 60.0), (5.0, 60.0), (2.0, 60.0)):
        polls = int(HORIZON_S / interval)
        half = polls // 2
        plan = _plan(GUIDE_DEFAULTS, interval)
        ex_plan = WatchPlan(ex, horizon_s=HORIZON_S, max_gap_s=3 * interval)
        h = _thresholds(ex_plan, polls, interval)
        for share, rise in [(s, False) for s in BURST_POLL_SHARES] + [(s, True) for s in (0.0, *BURST_POLL_SHARES)]:
            hc = np.zeros((watches, base_size))
            hs = np.zeros((watches, base_size))
            paired = np.zeros(watches, dtype=bool)
            stored = np.full(watches, -1)
            n = np.zeros((watches, polls), dtype=np.int64)
            k_low, k_high = n.copy(), n.copy()
            for j in range(polls):
                burst = rng.random(watches) < share
                scale = np.where(burst, SLOWDOWN, 1.0) * (2.5 if rise and j >= half else 1.0)
                which = np.select([scale == 1.0, scale == SLOWDOWN, scale == 2.5], [0, 1, 2], 3)
                nc = rng.poisson(rate * interval, size=watches)
                poll = rng.multinomial(nc, probs[which])
                hc += poll
                n[:, j] = nc
                k_low[:, j], k_high[:, j] = _exceedance_split(poll, limit_s)
                n_c = hc.sum(axis=1)
                bc = _p95_bucket(hc)
                stored = np.where((stored < 0) & (n_c >= min_requests) & (upper[bc] > limit_s), j, stored)
                if not rise:
                    ns = rng.poisson(STABLE_SHARE * rate * interval, size=watches)
                    hs += rng.multinomial(ns, probs[np.where(burst, 1, 0)])
                    bs = _p95_bucket(hs)
                    paired |= (n_c >= min_requests) & (hs.sum(axis=1) >= min_requests) & (
                        upper[bc] > factor * lower[bs])
            lone, first = lone_latency_alarms(ex, h, n, k_low, k_high, interval, fixed)
            _self_check_lone_latency(plan, interval, setting, limit_s, n, k_low, k_high, lone, alarm_dispersion,
                                     first=first)
            if not rise:
                passes = lone_latency_passes(ex, n, k_high, first)
                cells.append({"rate_rps": rate, "interval_s": interval, "burst_poll_share": share,
                              "slowdown": SLOWDOWN, "false_rollback_paired": float(paired.mean()),
                              "false_rollback_stored_baseline": float((stored >= 0).mean()),
                              "false_rollback_lone": float((lone >= 0).mean()),
                              "pass_share_lone": float(passes.mean()),
                              "undecided_second_half_lone": float((~passes[:, half:].any(axis=1)).mean())})
                continue
            row: dict = {"rate_rps": rate, "interval_s": interval, "burst_poll_share": share, "slowdown_after": 2.5}
            for name, alarm in (("lone", lone), ("stored_baseline", stored)):
                hit = alarm >= half
                delay = (alarm[hit] + 1 - half) * interval
                row[f"median_delay_{name}_s"] = round(float(np.median(delay)), 1) if hit.any() else math.nan
                row[f"detected_{name}"] = float(hit.mean())
                row[f"early_{name}"] = float(((alarm >= 0) & (alarm < half)).mean())
            detection.append(row)
    return {"watches_per_cell_bursty_latency": watches,
            "false_rollback_max_bursty_latency": max(c["false_rollback_paired"] for c in cells),
            "false_rollback_max_bursty_latency_lone": max(c["false_rollback_lone"] for c in cells),
            "undecided_max_bursty_latency_lone": max(c["undecided_second_half_lone"] for c in cells),
            "false_rollback_max_bursty_latency_stored_baseline": max(c["false_rollback_stored_baseline"]
                                                                     for c in cells),
            "bursty_latency": cells, "bursty_latency_detection": detection}


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


def _print_bursty(result: dict) -> None:
    print()
    print(f"bursty errors, {result['watches_per_cell_bursty']} watches per cell: false rollbacks per 2-hour watch")
    print(f"{'traffic':>9} {'poll':>6} {'conc.':>6} {'healthy':>8} {'paired':>8} {'lone':>7} {'former, lone':>13}")
    for c in result["bursty_grid"]:
        print(f"{c['rate_rps']:>6g}/s {c['interval_s']:>5g}s {c['concentration']:>6g} {c['healthy_rate'] * 100:>7.1f}% "
              f"{c['false_rollback_paired'] * 100:>7.2f}% {c['false_rollback_lone'] * 100:>6.2f}% "
              f"{c['false_rollback_window_lone'] * 100:>12.1f}%")
    print()
    print("canary-only rise 0.5 % -> 2 % under the same bursts: median delay (s), missed = no rollback in the window")
    print(f"{'traffic':>9} {'poll':>6} {'conc.':>6} {'reference':>10} {'paired':>8} {'ratio':>6} {'lone':>8} "
          f"{'ratio':>6} {'missed lone':>12}")
    for d in result["bursty_detection"]:
        print(f"{d['rate_rps']:>6g}/s {d['interval_s']:>5g}s {d['concentration']:>6g} "
              f"{d['median_delay_reference_s']:>10.1f} {d['median_delay_paired_s']:>8.1f} {d['ratio_paired']:>6.2f} "
              f"{d['median_delay_lone_s']:>8.1f} {d['ratio_lone']:>6.2f} {d['missed_lone'] * 100:>11.1f}%")
    print()
    print(f"false_rollback_max_bursty {result['false_rollback_max_bursty'] * 100:.2f} % (paired "
          f"{result['false_rollback_max_bursty_paired'] * 100:.2f} %, lone {result['false_rollback_max_bursty_lone'] * 100:.2f} "
          f"%; former window test on the lone bursty watches {result['false_rollback_max_bursty_window_before'] * 100:.1f} "
          f"%), target <= 1 %")
    print(f"detection_delay_ratio_bursty {result['detection_delay_ratio_bursty']:.2f} (paired "
          f"{result['detection_delay_ratio_bursty_paired']:.2f}, lone {result['detection_delay_ratio_bursty_lone']:.2f}), "
          f"target <= 1.5")


def _print_bursty_latency(result: dict) -> None:
    print()
    print(f"latency bursts (a share of polls {SLOWDOWN:g}x slower), "
          f"{result['watches_per_cell_bursty_latency']} watches per cell: p95 vs 2x baseline, false rollbacks")
    print(f"{'traffic':>9} {'poll':>6} {'burst polls':>12} {'beside stable':>14} {'stored: former':>15} {'lone':>7} "
          f"{'lone PASS polls':>16} {'no PASS in 2nd hour':>20}")
    for c in result["bursty_latency"]:
        print(f"{c['rate_rps']:>6g}/s {c['interval_s']:>5g}s {c['burst_poll_share'] * 100:>11g}% "
              f"{c['false_rollback_paired'] * 100:>13.2f}% {c['false_rollback_stored_baseline'] * 100:>14.1f}% "
              f"{c['false_rollback_lone'] * 100:>6.2f}% {c['pass_share_lone'] * 100:>15.1f}% "
              f"{c['undecided_second_half_lone'] * 100:>19.1f}%")
    print()
    print("release 2.5x slower from the poll halfway (stored baseline): median delay (s), share detected after the "
          "rise, share rolled back before it")
    print(f"{'traffic':>9} {'poll':>6} {'burst polls':>12} {'lone delay':>11} {'detected':>9} {'early':>6} "
          f"{'former delay':>13} {'detected':>9} {'early':>6}")
    for d in result["bursty_latency_detection"]:
        print(f"{d['rate_rps']:>6g}/s {d['interval_s']:>5g}s {d['burst_poll_share'] * 100:>11g}% "
              f"{d['median_delay_lone_s']:>11.1f} {d['detected_lone'] * 100:>8.1f}% {d['early_lone'] * 100:>5.1f}% "
              f"{d['median_delay_stored_baseline_s']:>13.1f} {d['detected_stored_baseline'] * 100:>8.1f}% "
              f"{d['early_stored_baseline'] * 100:>5.1f}%")
    print(f"false_rollback_max_bursty_latency {result['false_rollback_max_bursty_latency'] * 100:.2f} % (the "
          f"concurrent-baseline rule, an upper bound), target <= 1 %")
    print(f"false_rollback_max_bursty_latency_lone {result['false_rollback_max_bursty_latency_lone'] * 100:.2f} % "
          f"(the stored-baseline rule on exceedance counts; the former stored-baseline rule "
          f"{result['false_rollback_max_bursty_latency_stored_baseline'] * 100:.1f} %), target <= 1 %")


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
    print(f"detection_delay_ratio {result['detection_delay_ratio']:.2f}, target <= 1.5")
    if "bursty_grid" in result:
        _print_bursty(result)
    if "bursty_latency" in result:
        _print_bursty_latency(result)
    if "lone_margin_tradeoff" in result:
        _print_lone_margins(result)
    print(f"({seconds:.0f}s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--watches", type=int, default=None, help="watches per cell (default 2000, --quick 200)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="few watches: a smoke run for the tests")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--bursty-watches", type=int, default=None,
                    help="watches per bursty cell (default 500, --quick 100)")
    ap.add_argument("--latency-watches", type=int, default=None,
                    help="watches per bursty latency cell (default 200, --quick 50)")
    ap.add_argument("--lone-margins", action="store_true",
                    help="also print the lone test's false rollbacks and delay at narrower dispersion allowances, "
                         "with the true dispersion stated and at the exact true concentration (same watches, side "
                         "by side; a minute or two)")
    ap.add_argument("--bursty-1s", action="store_true",
                    help="also run the bursty grid at 1 s polls (7200 polls per watch: many minutes)")
    args = ap.parse_args(argv)
    watches = args.watches or (200 if args.quick else 2000)
    if watches < 10:
        print("watch_validity: --watches must be at least 10", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = run(watches, args.seed, args.quick)
    bursty_cells = CELLS if args.bursty_1s else tuple(c for c in CELLS if c[1] >= 30)
    result.update(run_bursty(args.bursty_watches or (100 if args.quick else 500), args.seed, bursty_cells))
    result.update(run_bursty_latency(args.latency_watches or (50 if args.quick else 200), args.seed))
    if args.lone_margins:
        result.update(run_lone_margins(args.bursty_watches or (100 if args.quick else 500), args.seed, bursty_cells))
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(result, indent=2, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x))
    else:
        _print(result, result["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
