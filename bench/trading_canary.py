"""Trading canary benchmark: false rollbacks of healthy canary phases, and bars to detect.

The trading criteria (:mod:`goldgate.criteria.trading`) are judged on every poll of a
canary phase (guide §2.2: 30 minutes). This bench simulates decision streams of whole
phases - vectorised with numpy, checked against the criteria's own classes on the first
phases of every cell - and measures:

* ``false_rollback_max``: the largest share of healthy canary phases rolled back by signal
  agreement or trade rate, over decision rates of 1 to 60 bars per minute, healthy
  canaries of the same model (agreement 100 %) and a retrained one (97 %), trade-rate ratio
  1, with and without trade bursts shared by both tracks. Target at most 1 % per phase.
* ``false_rollback_at_bound``: the same at the worst case the bounds allow (agreement exactly
  ``min_agreement``; trade-rate ratio exactly the upper bound): each at most its alpha.
* ``false_rollback_agreement_regimes``: a retrained model whose disagreement rate changes by
  market regime (a Beta-distributed rate per 5-minute block, mean 3 %): outside the
  assumption of the agreement bound, shown for what it costs.
* ``false_rollback_max_bursty_rejects``: healthy phases rolled back by the order-reject rule
  when the broker's reject probability bursts for both tracks at once (a per-poll probability
  drawn afresh from a Beta distribution, mean 1 %, concentration 20 or 2 - a venue that rejects
  nearly everything for a poll now and then), on top of the shared trade bursts, with the
  canary rejecting as often as the stable and, as the null's worst case, exactly
  ``reject_margin`` more often in every poll. Target at most 1 % (the rule's alpha).
* ``detection_ratio``: mean bars from the start of a faulty phase to the rollback, divided by
  the bars a fixed-sample test with the same error rates needs (exact one-sided binomial at
  the same alpha, power 1 - beta = 95 %), for 5, 10 and 20 % flipped signals and an
  over-trading canary, with and without shared bursts. Target at most 1.5.

Flips: a canary that inverts a share ``f`` of its signals. On top of a retrained model that
agrees on 97 %, agreement falls to ``0.97 (1 - f) + 0.03 f`` (92.3, 87.6 and 78.2 %): all
breaches of ``min_agreement`` 0.95. On top of the same model agreement is ``1 - f``: a 5 %
flip sits exactly on the 95 % minimum (not a breach; shown, not counted).
Trade rate: with the default bounds [0.5, 2.0] a canary trading 2x is on the bound, not
beyond it; detection is measured at 3x (the ``-overtrade`` build) and 4x (twice the bound),
false rollbacks at 1x and, as the null's worst case, at exactly 2x.
Bursts: every poll's trading intensity of *both* tracks is multiplied by a shared factor
(Gamma, mean 1, squared coefficient of variation 4, redrawn every poll) - news, a session
open. Orders are independent Poisson given the intensity (the worst case for the binomial:
a same-model canary trades on the very bars the stable version trades on, which only lowers
the variance of its share).

Run: .venv/bin/python bench/trading_canary.py [--phases 2000] [--seed 1] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from goldgate.criteria.trading.agreement import AgreementPlan, AgreementState
from goldgate.criteria.trading.rates import TradeRate, TradeRatePlan
from goldgate.criteria.trading.rejects import OrderRejects, RejectPlan

PHASE_S = 1800.0
POLL_S = 5.0
RATES_PER_MIN = (1, 5, 15, 30, 60)
FLIPS = (0.05, 0.10, 0.20)
RETRAINED = 0.03  # disagreement of a legitimately retrained model
CANARY_REPLICAS, STABLE_REPLICAS = 1, 3
ORDERS_PER_BAR = 0.5  # orders per bar per replica of a healthy bot (one order on half the bars)
BURST_CV2 = 4.0
OVERTRADE = (3.0, 4.0)
MAX_BARS = 40_000
CLUSTER = 50.0  # concentration of the per-block disagreement rate (Beta) of a model that differs by regime


# ----------------------------------------------------------------------------- signal agreement
class _LogGamma:
    """lgamma(x0 + i) for integer i, tabulated: numpy has no vectorised lgamma."""

    def __init__(self, x0: float, size: int) -> None:
        self.table = np.array([math.lgamma(x0 + i) for i in range(size + 1)])

    def __call__(self, i: np.ndarray) -> np.ndarray:
        return self.table[i]


def agreement_alarm(plan: AgreementPlan, dis: np.ndarray) -> np.ndarray:
    """Paired bar index of the agreement FAIL per phase (-1: none), from a (phases x bars)
    0/1 matrix of disagreements. Same arithmetic as AgreementState.failed."""
    a, b = plan.prior
    bars = dis.shape[1]
    la, lb, lab = _LogGamma(a, bars), _LogGamma(b, bars), _LogGamma(a + b, bars)
    log_b0 = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    d0 = 1 - plan.fail_below
    k = np.cumsum(dis, axis=1, dtype=np.int64)
    n = np.arange(1, bars + 1, dtype=np.int64)[None, :]
    log_e = la(k) + lb(n - k) - lab(n) - log_b0 - k * math.log(d0) - (n - k) * math.log1p(-d0)
    fire = (log_e >= -math.log(plan.alpha)) & (k > d0 * n)
    first = np.where(fire.any(axis=1), fire.argmax(axis=1), -1)
    return first


def _agreement_check(plan: AgreementPlan, dis: np.ndarray, alarm: np.ndarray, phases: int = 3) -> None:
    for w in range(min(phases, dis.shape[0])):
        got = -1
        k = 0
        for j in range(dis.shape[1]):
            k += int(dis[w, j])
            if AgreementState(plan, pairs=j + 1, disagreements=k).failed:
                got = j
                break
        if got != alarm[w]:
            raise AssertionError(f"vectorised agreement rule disagrees with AgreementState: phase {w} alarm at bar "
                                 f"{alarm[w]} vs {got}")


def _binom_logpmf_table(n: int) -> np.ndarray:
    return np.array([math.lgamma(i + 1) for i in range(n + 1)])


def fixed_sample_bars(p0: float, p1: float, alpha: float, beta: float, limit: int = 200_000) -> int:
    """Smallest n whose exact one-sided binomial test of rate p0 (reject for many events, level
    alpha) has power 1 - beta at p1 > p0."""
    def power(n: int) -> float:
        lf = _binom_logpmf_table(n)
        k = np.arange(n + 1)
        logc = lf[n] - lf[k] - lf[n - k]
        with np.errstate(divide="ignore"):
            pmf0 = np.exp(logc + k * math.log(p0) + (n - k) * math.log1p(-p0))
            pmf1 = np.exp(logc + k * math.log(p1) + (n - k) * math.log1p(-p1))
        tail0 = np.cumsum(pmf0[::-1])[::-1]
        c = int(np.argmax(tail0 <= alpha)) if (tail0 <= alpha).any() else n + 1
        return float(pmf1[c:].sum())

    lo, hi = 1, 16
    while power(hi) < 1 - beta:
        lo, hi = hi, hi * 2
        if hi > limit:
            return limit
    while lo < hi:  # the power is not monotone in n by a little (discreteness): take the first n of the run
        mid = (lo + hi) // 2
        if power(mid) >= 1 - beta:
            hi = mid
        else:
            lo = mid + 1
    return lo


def agreement_cells(rng: np.random.Generator, plan: AgreementPlan, phases: int) -> tuple[list[dict], list[dict]]:
    false, detect = [], []
    for per_min in RATES_PER_MIN:
        bars = int(per_min * PHASE_S / 60)
        for label, d in (("same model", 0.0), ("retrained 97 %", RETRAINED), ("at the minimum", 1 - plan.fail_below)):
            dis = rng.random((phases, bars)) < d
            alarm = agreement_alarm(plan, dis)
            _agreement_check(plan, dis, alarm)
            false.append({"rule": "agreement", "bars_per_min": per_min, "canary": label, "disagreement": d,
                          "false_rollback": float((alarm >= 0).mean()), "bound": label == "at the minimum"})
        # the retrained model's disagreement in regimes: a rate per 5-minute block, Beta with mean 3 %
        blocks = int(PHASE_S / 300)
        rate = rng.beta(RETRAINED * CLUSTER, (1 - RETRAINED) * CLUSTER, size=(phases, blocks))
        per_bar = np.repeat(rate, int(np.ceil(bars / blocks)), axis=1)[:, :bars]
        alarm = agreement_alarm(plan, rng.random((phases, bars)) < per_bar)
        false.append({"rule": "agreement", "bars_per_min": per_min, "canary": "retrained, regimes",
                      "disagreement": RETRAINED, "false_rollback": float((alarm >= 0).mean()), "bound": False,
                      "clustered": True})
    d0 = 1 - plan.fail_below
    for base_label, base in (("retrained 97 %", RETRAINED), ("same model", 0.0)):
        for f in FLIPS:
            d = base * (1 - f) + f * (1 - base)
            row = {"rule": "agreement", "fault": f"{f * 100:g} % flips on the {base_label}", "agreement": 1 - d}
            if d <= d0 + 1e-12:
                detect.append(row | {"breach": False, "note": "at or above min_agreement: not a breach"})
                continue
            n_fix = fixed_sample_bars(d0, d, plan.alpha, plan.beta)
            dis = rng.random((phases, min(MAX_BARS, 8 * n_fix))) < d
            alarm = agreement_alarm(plan, dis)
            caught = alarm >= 0
            bars = np.where(caught, alarm + 1, dis.shape[1])
            detect.append(row | {"breach": True, "fixed_sample_bars": n_fix,
                                 "mean_bars": round(float(bars.mean()), 1),
                                 "median_bars": float(np.median(bars)),
                                 "p95_bars": float(np.quantile(bars, 0.95)),
                                 "missed": float((~caught).mean()),
                                 "ratio": round(float(bars.mean()) / n_fix, 3),
                                 "minutes_at_60_per_min": round(float(bars.mean()) / 60, 1)})
    return false, detect


# ----------------------------------------------------------------------------- trade rate
def _bars_per_poll(per_min: float, polls: int) -> np.ndarray:
    t = np.arange(polls + 1) * POLL_S
    return np.diff(np.floor(t * per_min / 60.0)).astype(np.int64)


def _simulate_orders(rng: np.random.Generator, phases: int, bars: np.ndarray, ratio: float,
                     bursts: bool) -> tuple[np.ndarray, np.ndarray]:
    shape = (phases, bars.size)
    intensity = rng.gamma(1 / BURST_CV2, BURST_CV2, size=shape) if bursts else np.ones(shape)
    mean = bars[None, :] * ORDERS_PER_BAR * intensity
    return (rng.poisson(mean * CANARY_REPLICAS * ratio), rng.poisson(mean * STABLE_REPLICAS))


def trade_rate_alarm(plan: TradeRatePlan, bars: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Poll index of the trade-rate FAIL per phase (-1: none): TradeRate.observe, vectorised.
    Polls without bars have no exposure on either track and carry their orders into the next."""
    phases, polls = c.shape
    ratios = plan.ratios()
    lo, hi = plan.bounds
    idx = {r: i for i, r in enumerate(ratios)}
    over = [idx[hi * g] for g in plan.grid]
    under = [idx[lo / g] for g in plan.grid]
    ll = np.zeros((phases, len(ratios)))
    cc = np.zeros(phases)
    ss = np.zeros(phases)
    pc = np.zeros(phases)
    ps = np.zeros(phases)
    ec = es = 0.0
    fail = math.log(2 / plan.alpha)
    alarm = np.full(phases, -1)
    r = np.array(ratios)[None, :]

    def lme(x: np.ndarray) -> np.ndarray:
        top = x.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(x - top).mean(axis=1, keepdims=True)))[:, 0]

    for j in range(polls):
        pc = pc + c[:, j]
        ps = ps + s[:, j]
        if bars[j] == 0:
            continue
        e = (bars[j] * CANARY_REPLICAS) / (bars[j] * STABLE_REPLICAS)
        share = r * e / (1 + r * e)
        ll = ll + pc[:, None] * np.log(share) + ps[:, None] * np.log1p(-share)
        cc, ss = cc + pc, ss + ps
        ec, es = ec + bars[j] * CANARY_REPLICAS, es + bars[j] * STABLE_REPLICAS
        pc = np.zeros(phases)
        ps = np.zeros(phases)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ss > 0, (cc / ec) / np.where(ss > 0, ss / es, 1.0), np.where(cc > 0, np.inf, np.nan))
        e_over = lme(ll[:, over] - ll[:, [idx[hi]]])
        e_under = lme(ll[:, under] - ll[:, [idx[lo]]])
        fire = (((ratio > hi) & (e_over >= fail)) | ((ratio < lo) & (e_under >= fail))) & (alarm < 0)
        alarm = np.where(fire, j, alarm)
    return alarm


def _trade_rate_check(plan: TradeRatePlan, bars: np.ndarray, c: np.ndarray, s: np.ndarray, alarm: np.ndarray,
                      phases: int = 3) -> None:
    for w in range(min(phases, c.shape[0])):
        test = TradeRate(plan)
        got = -1
        for j in range(c.shape[1]):
            state = test.observe(int(c[w, j]), float(bars[j] * CANARY_REPLICAS), int(s[w, j]),
                                 float(bars[j] * STABLE_REPLICAS))
            if state.alarm:
                got = j
                break
        if got != alarm[w]:
            raise AssertionError(f"vectorised trade-rate rule disagrees with TradeRate: phase {w} alarm at poll "
                                 f"{alarm[w]} vs {got}")


def _fixed_trade_bars(plan: TradeRatePlan, ratio: float) -> float:
    """Bars a fixed-sample test needs: exact one-sided binomial on the canary's share of all
    orders, level alpha/2 (one side of the two-sided rule), power 1 - beta at ``ratio``."""
    e = CANARY_REPLICAS / STABLE_REPLICAS
    p0 = plan.bounds[1] * e / (1 + plan.bounds[1] * e)
    p1 = ratio * e / (1 + ratio * e)
    orders = fixed_sample_bars(p0, p1, plan.alpha / 2, plan.beta)
    per_bar = ORDERS_PER_BAR * (CANARY_REPLICAS * ratio + STABLE_REPLICAS)
    return orders / per_bar


def trade_rate_cells(rng: np.random.Generator, plan: TradeRatePlan, phases: int) -> tuple[list[dict], list[dict]]:
    false, detect = [], []
    polls = int(PHASE_S / POLL_S)
    for per_min in RATES_PER_MIN:
        bars = _bars_per_poll(per_min, polls)
        for bursts in (False, True):
            for ratio in (1.0, plan.bounds[1]):
                c, s = _simulate_orders(rng, phases, bars, ratio, bursts)
                alarm = trade_rate_alarm(plan, bars, c, s)
                _trade_rate_check(plan, bars, c, s, alarm)
                false.append({"rule": "trade rate", "bars_per_min": per_min, "bursts": bursts, "ratio": ratio,
                              "false_rollback": float((alarm >= 0).mean()), "bound": ratio != 1.0})
    per_min = 60
    for ratio in OVERTRADE:
        n_fix = _fixed_trade_bars(plan, ratio)
        long_polls = math.ceil(8 * n_fix / (per_min * POLL_S / 60))
        bars = _bars_per_poll(per_min, long_polls)
        for bursts in (False, True):
            c, s = _simulate_orders(rng, phases, bars, ratio, bursts)
            alarm = trade_rate_alarm(plan, bars, c, s)
            caught = alarm >= 0
            cum = np.cumsum(bars)
            got = np.where(caught, cum[np.maximum(alarm, 0)], cum[-1])
            detect.append({"rule": "trade rate", "fault": f"{ratio:g}x trade rate", "bursts": bursts,
                           "breach": True, "fixed_sample_bars": round(n_fix, 1),
                           "mean_bars": round(float(got.mean()), 1), "median_bars": float(np.median(got)),
                           "p95_bars": float(np.quantile(got, 0.95)), "missed": float((~caught).mean()),
                           "ratio": round(float(got.mean()) / n_fix, 3)})
    return false, detect


# ----------------------------------------------------------------------------- order rejects
REJECT_RATE = 0.01
REJECT_CONCENTRATIONS = (math.inf, 20.0, 2.0)


def reject_alarm(plan: RejectPlan, c_rej: np.ndarray, c_ord: np.ndarray, s_rej: np.ndarray,
                 s_ord: np.ndarray) -> np.ndarray:
    """Poll index of the reject rule's FAIL per phase (-1: none): OrderRejects.observe, vectorised.
    A poll where either track placed no order is carried into the next."""
    phases, polls = c_ord.shape
    lam = np.array(plan.lambdas)[None, :]
    wealth = np.zeros((phases, lam.size))
    pend = [np.zeros(phases) for _ in range(4)]
    tot = [np.zeros(phases) for _ in range(4)]
    fail = -math.log(plan.alpha)
    alarm = np.full(phases, -1)
    for j in range(polls):
        pend = [a + b[:, j] for a, b in zip(pend, (c_rej, c_ord, s_rej, s_ord), strict=True)]
        go = (pend[1] > 0) & (pend[3] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(go, pend[0] / np.where(go, pend[1], 1) - pend[2] / np.where(go, pend[3], 1) - plan.margin, 0.0)
        wealth = wealth + np.where(go[:, None], np.log1p(lam * x[:, None]), 0.0)
        tot = [t + np.where(go, q, 0) for t, q in zip(tot, pend, strict=True)]
        pend = [np.where(go, 0, q) for q in pend]
        top = wealth.max(axis=1)
        log_e = top + np.log(np.exp(wealth - top[:, None]).mean(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.where((tot[1] > 0) & (tot[3] > 0), tot[0] / np.maximum(tot[1], 1) - tot[2] / np.maximum(tot[3], 1),
                              -np.inf)
        fire = go & (excess > plan.margin) & (log_e >= fail) & (alarm < 0)
        alarm = np.where(fire, j, alarm)
    return alarm


def _reject_check(plan: RejectPlan, counts: tuple[np.ndarray, ...], alarm: np.ndarray, phases: int = 3) -> None:
    for w in range(min(phases, counts[0].shape[0])):
        test = OrderRejects(plan)
        got = -1
        for j in range(counts[0].shape[1]):
            if test.observe(*(int(a[w, j]) for a in counts)).alarm:
                got = j
                break
        if got != alarm[w]:
            raise AssertionError(f"vectorised reject rule disagrees with OrderRejects: phase {w} alarm at poll "
                                 f"{alarm[w]} vs {got}")


def reject_cells(rng: np.random.Generator, plan: RejectPlan, phases: int) -> list[dict]:
    """Healthy phases (and the null's worst case) under reject bursts both tracks share."""
    out = []
    polls = int(PHASE_S / POLL_S)
    for per_min in RATES_PER_MIN:
        bars = _bars_per_poll(per_min, polls)
        for conc in REJECT_CONCENTRATIONS:
            for excess in (0.0, plan.margin):
                c_ord, s_ord = _simulate_orders(rng, phases, bars, 1.0, True)
                shape = c_ord.shape
                p = (np.full(shape, REJECT_RATE) if math.isinf(conc)
                     else rng.beta(conc * REJECT_RATE, conc * (1 - REJECT_RATE), size=shape))
                c_rej = rng.binomial(c_ord, np.minimum(1.0, p + excess))
                s_rej = rng.binomial(s_ord, p)
                counts = (c_rej, c_ord, s_rej, s_ord)
                alarm = reject_alarm(plan, *counts)
                _reject_check(plan, counts, alarm)
                out.append({"rule": "rejects", "bars_per_min": per_min, "bursts": True, "concentration": conc,
                            "excess": excess, "false_rollback": float((alarm >= 0).mean()), "bound": excess > 0})
    return out


# ----------------------------------------------------------------------------- combined phases
def combined_false(rng: np.random.Generator, ap: AgreementPlan, tp: TradeRatePlan, phases: int) -> list[dict]:
    """Healthy phases judged by both rules at once: a rollback by either is a false rollback."""
    out = []
    polls = int(PHASE_S / POLL_S)
    for per_min in RATES_PER_MIN:
        bars = _bars_per_poll(per_min, polls)
        n = int(bars.sum())
        for label, d in (("same model", 0.0), ("retrained 97 %", RETRAINED)):
            for bursts in (False, True):
                a = agreement_alarm(ap, rng.random((phases, n)) < d) >= 0
                c, s = _simulate_orders(rng, phases, bars, 1.0, bursts)
                t = trade_rate_alarm(tp, bars, c, s) >= 0
                out.append({"bars_per_min": per_min, "canary": label, "bursts": bursts,
                            "false_rollback": float((a | t).mean())})
    return out


def run(phases: int, seed: int, quick: bool) -> dict:
    rng = np.random.default_rng(seed)
    ap, tp = AgreementPlan(), TradeRatePlan()
    a_false, a_detect = agreement_cells(rng, ap, phases)
    t_false, t_detect = trade_rate_cells(rng, tp, phases)
    combined = combined_false(rng, ap, tp, phases)
    rejects = reject_cells(rng, RejectPlan(), phases)
    healthy = [c["false_rollback"] for c in combined]
    at_bound = [c for c in a_false + t_false if c["bound"]]
    breaches = [d for d in a_detect + t_detect if d.get("breach")]
    bursty = [d for d in t_detect if d.get("bursts")]
    return {
        "phases_per_cell": phases, "phase_s": PHASE_S, "poll_s": POLL_S,
        "min_agreement": ap.min_agreement, "agreement_alpha": ap.alpha, "trade_rate_bounds": list(tp.bounds),
        "trade_rate_alpha": tp.alpha, "beta": ap.beta,
        "false_rollback_max": max(healthy),
        "false_rollback_max_bursty": max(c["false_rollback"] for c in combined if c["bursts"]),
        "false_rollback_at_bound": {
            "agreement": max(c["false_rollback"] for c in at_bound if c["rule"] == "agreement"),
            "trade_rate": max(c["false_rollback"] for c in at_bound if c["rule"] == "trade rate"),
        },
        "false_rollback_max_bursty_rejects": max(c["false_rollback"] for c in rejects),
        "false_rollback_agreement_regimes": max(c["false_rollback"] for c in a_false if c.get("clustered")),
        "detection_ratio": max(d["ratio"] for d in breaches),
        "detection_ratio_bursty": max(d["ratio"] for d in bursty),
        "healthy": combined, "rules": a_false + t_false, "rejects": rejects, "detection": a_detect + t_detect,
    }


def _print(result: dict) -> None:
    print(f"30-minute canary phases, {result['phases_per_cell']} per cell, polls every {result['poll_s']:g}s")
    print("healthy phases rolled back (agreement or trade rate):")
    print(f"{'bars/min':>9} {'canary':>16} {'bursts':>7} {'false rollbacks':>16}")
    for c in result["healthy"]:
        print(f"{c['bars_per_min']:>9} {c['canary']:>16} {'yes' if c['bursts'] else 'no':>7} "
              f"{c['false_rollback'] * 100:>15.2f}%")
    print()
    print("each rule at the worst case its null allows (bound: its alpha):")
    for c in result["rules"]:
        if c["bound"]:
            what = (f"agreement {100 - c['disagreement'] * 100:g} %" if c["rule"] == "agreement"
                    else f"trade rate {c['ratio']:g}x, bursts {'yes' if c['bursts'] else 'no'}")
            print(f"  {c['bars_per_min']:>3} bars/min  {what:<34} {c['false_rollback'] * 100:6.2f}%")
    print("order rejects under reject bursts shared by both tracks (mean 1 %; conc. inf = independent):")
    for c in result["rejects"]:
        what = "canary = stable" if not c["bound"] else f"canary = stable + {c['excess'] * 100:g} % (bound)"
        print(f"  {c['bars_per_min']:>3} bars/min  conc. {c['concentration']:>4g}  {what:<32} "
              f"{c['false_rollback'] * 100:6.2f}%")
    print("agreement of a retrained model (97 %) whose disagreement comes in 5-minute regimes (Beta, "
          f"concentration {CLUSTER:g}): worst {result['false_rollback_agreement_regimes'] * 100:.2f}% "
          "(outside the bound's assumption; shown)")
    print()
    print("bars to roll back a faulty canary vs a fixed-sample test with the same error rates:")
    print(f"{'fault':>38} {'bursts':>7} {'fixed':>8} {'mean':>8} {'p95':>8} {'missed':>7} {'ratio':>6}")
    for d in result["detection"]:
        if not d.get("breach"):
            print(f"{d['fault']:>38} {'':>7} {d['note']}")
            continue
        bursts = "yes" if d.get("bursts") else ("no" if "bursts" in d else "-")
        print(f"{d['fault']:>38} {bursts:>7} {d['fixed_sample_bars']:>8.0f} {d['mean_bars']:>8.0f} "
              f"{d['p95_bars']:>8.0f} {d['missed'] * 100:>6.1f}% {d['ratio']:>6.2f}")
    print()
    print(f"false_rollback_max {result['false_rollback_max'] * 100:.2f} % (bursty "
          f"{result['false_rollback_max_bursty'] * 100:.2f} %), target <= 1 %; at the bounds: agreement "
          f"{result['false_rollback_at_bound']['agreement'] * 100:.2f} %, trade rate "
          f"{result['false_rollback_at_bound']['trade_rate'] * 100:.2f} %; order rejects under shared reject "
          f"bursts {result['false_rollback_max_bursty_rejects'] * 100:.2f} %")
    print(f"detection_ratio {result['detection_ratio']:.2f} (bursty {result['detection_ratio_bursty']:.2f}), "
          f"target <= 1.5   ({result['seconds']:.0f}s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phases", type=int, default=None, help="phases per cell (default 2000, --quick 200)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="few phases: a smoke run for the tests")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    phases = args.phases or (200 if args.quick else 2000)
    if phases < 10:
        print("trading_canary: --phases must be at least 10", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = run(phases, args.seed, args.quick)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
