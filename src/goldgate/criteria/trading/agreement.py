"""Signal agreement with the stable version, paired by bar and symbol (guide §8.2 trades).

Stable and canary read the same market feed, so on every bar they decide on the same
prices: a release that keeps the model must say the same BUY/SELL/HOLD, and a deliberate
model change agrees on a share the team states in the release manifest
(``expected_agreement``). A canary that flips one signal in five answers every request
fast and without errors; only comparing its decisions with the stable version's shows it.

Pairing. The unit is one (bar, symbol): the stable version's signal there is the one most
of its pods gave (a tie is skipped and counted as ambiguous), and the canary agrees when
every canary pod gave that signal. A key is paired once both tracks have decided it and
both have moved on to a later bar; a key only one track decided, ``max_lag_s`` behind the
newest paired bar, is counted as canary-only / stable-only (shown, not judged). Counting
pods instead of bars would count a deterministic model's identical answers several times
and make the bounds falsely narrow.

The test (a confidence sequence for the disagreement rate)
-----------------------------------------------------------
Each paired bar is a Bernoulli trial (1 = disagree). After ``n`` paired bars with ``k``
disagreements, Robbins' mixture martingale against a disagreement rate ``d`` is::

    M_n(d) = B(a + k, b + n - k) / B(a, b) / (d^k (1 - d)^(n - k))

(a ``Beta(a, b)`` prior over the alternatives, default ``a = 1, b = 20``, mean 4.8 %).
When bars disagree independently with probability at most ``d`` given the past, ``M_n(d)``
is a nonnegative supermartingale with mean at most 1, so by Ville's inequality::

    P(M_n(d) >= 1/alpha for some n) <= alpha          whatever the polling.

The agreements ``q`` whose ``d = 1 - q`` is not rejected form an interval, the confidence
sequence ``[LCB_n, UCB_n]`` (:func:`~goldgate.criteria.trading.sequential.rate_bounds`).

* FAIL (rollback) when the upper bound at level ``alpha`` is below ``fail_below``:
  ``UCB_n < fail_below``. A canary whose true agreement is at least ``fail_below`` is rolled
  back with probability at most ``alpha`` over the whole phase (default 1 %), polled as
  often as the monitor likes.
* PASS when ``n >= min_pairs`` and the lower bound at level ``beta`` reaches ``pass_at``:
  ``LCB_n >= pass_at``. A canary whose true agreement is below ``pass_at`` is passed with
  probability at most ``beta`` (default 5 %) over the phase. A PASS is judged afresh on every
  poll; a FAIL is final.
* INCONCLUSIVE otherwise, and with no paired bar (market closed, one track silent).

The levels: ``fail_below = min_agreement`` (environment ``trading.min_agreement``, default
0.95) and ``pass_at = min_agreement - tolerance`` (default tolerance 0.02): between them is
the indifference zone where neither error is bounded. A release whose manifest states
``expected_agreement`` (a deliberate model change) is held to ``pass_at = expected -
tolerance`` and ``fail_below = min(min_agreement, expected - tolerance)``: stating a lower
expectation is the only way to pass below ``min_agreement`` and is visible in the verdict.

Measured (``bench/trading_canary.py``, 2000 phases of 30 minutes per cell, 1 to 60 paired
bars a minute). Healthy canaries (same model; retrained at 97 %) are rolled back in at most
0.05 % of phases; at exactly 95 % agreement, the worst case the bound allows, in 0.15 %
(alpha 1 %). Flips: a canary inverting 5/10/20 % of the signals of the retrained model
(agreement 92.3/87.6/78.2 %) is rolled back after 1019/162/48 paired bars on average, 0.74 to
0.82 of what a fixed-sample binomial test with the same error rates needs (1314/221/58) -
and that test could only be run once. On the same model 10/20 % flips (agreement 90/80 %)
take 324/57 bars; 5 % flips of the same model agree on 95 %, the minimum itself: not a
breach of ``min_agreement`` (a release that expects the same signals can state
``expected_agreement: 1.0``, and then never passes with them).

PASS takes time, in paired bars (on the sandbox feed, where the retrained model agrees on
97.3 %): same model about 60; retrained without a stated expectation (PASS at 93 %) a median
of 150, up to about 400; retrained stating 97 % (PASS at 95 %) a median of about 500, up to
1300. Distinguishing 97 % from 95 % takes several hundred bars for any test with these error
rates; a phase shorter than that stays INCONCLUSIVE unless the tolerance is wider.

Limits of the bound. It assumes, conditionally on the past, a disagreement probability at
most ``d`` at every bar. Disagreement clustered in time (a retrained model that differs in
one market regime) with a healthy mean but stretches above ``fail_below`` can alarm more
often than ``alpha``: with a per-5-minute disagreement rate drawn from a Beta of mean 3 %
and concentration 50 the bench measures up to 3.2 % of phases rolled back at 60 bars a
minute. The sandbox's retrained model is not clustered that way (its disagreement per 400
pairs varies less than a binomial's; 0 of 821 phases rolled back). The two versions see the
same bars, so shared market bursts do not move agreement; only such regime effects do.

Why not the error-rate trigger's CUSUM (:mod:`goldgate.criteria.watch_error_rate`): one
martingale started at the phase's first bar covers every look without splitting the budget
over starting points, and a bad build disagrees from its first bar. The price is a fault
that starts late in a phase: the healthy bars before it dilute the count, so it is caught
later than a CUSUM would (each new phase starts afresh).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.trading.records import Decision, TrackStream, problems
from goldgate.criteria.trading.sequential import beta_binomial_log_e, rate_bounds
from goldgate.verdict import Evidence, Verdict

__all__ = ["AGREEMENT", "AgreementPlan", "AgreementState", "SignalAgreement", "signal_agreement",
           "signal_agreement_of"]

AGREEMENT = "signal agreement with the stable version (§8.2 trades)"


@dataclass(frozen=True)
class AgreementPlan:
    """The test's numbers (from the environment's ``trading:`` section and the manifest)."""

    min_agreement: float = 0.95
    tolerance: float = 0.02
    expected_agreement: float | None = None
    alpha: float = 0.01
    beta: float = 0.05
    min_pairs: int = 20
    max_lag_s: float = 60.0
    prior: tuple[float, float] = (1.0, 20.0)

    def __post_init__(self) -> None:
        def unit(name: str, value: object, lo: float = 0.0, hi: float = 1.0) -> None:
            if not (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
                    and lo < value < hi):
                raise ValueError(f"{name} must be a number in ({lo:g}, {hi:g}), got {value!r}")

        unit("min_agreement", self.min_agreement, 0.0, 1.0 + 1e-12)
        unit("tolerance", self.tolerance, -1e-12, 1.0)
        if self.expected_agreement is not None:
            unit("expected_agreement", self.expected_agreement, 0.0, 1.0 + 1e-12)
        unit("alpha", self.alpha, 0.0, 0.5)
        unit("beta", self.beta, 0.0, 0.5)
        if not (isinstance(self.min_pairs, int) and self.min_pairs >= 1):
            raise ValueError(f"min_pairs must be a positive integer, got {self.min_pairs!r}")
        if not (isinstance(self.max_lag_s, int | float) and math.isfinite(self.max_lag_s) and self.max_lag_s > 0):
            raise ValueError(f"max_lag_s must be a positive number of seconds, got {self.max_lag_s!r}")
        a, b = self.prior
        if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"prior must be two positive numbers, got {self.prior!r}")
        if self.pass_at <= 0:
            raise ValueError(f"expected agreement minus tolerance must be positive, got {self.pass_at:g}")

    @property
    def expected(self) -> float:
        return self.min_agreement if self.expected_agreement is None else self.expected_agreement

    @property
    def pass_at(self) -> float:
        """PASS needs the lower confidence bound of agreement at or above this."""
        return self.expected - self.tolerance

    @property
    def fail_below(self) -> float:
        """FAIL needs the upper confidence bound of agreement below this."""
        if self.expected_agreement is None:
            return self.min_agreement
        return min(self.min_agreement, self.pass_at)


@dataclass(frozen=True)
class AgreementState:
    """Where the phase's agreement stands (plain data, judged by :func:`signal_agreement`)."""

    plan: AgreementPlan
    pairs: int = 0
    disagreements: int = 0
    canary_only: int = 0
    stable_only: int = 0
    ambiguous: int = 0
    canary_decisions: int = 0
    stable_decisions: int = 0
    first_bar: float | None = None
    last_bar: float | None = None
    by_symbol: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    examples: tuple[tuple[float, str, str, str], ...] = ()
    problem: str = ""

    @property
    def agreement(self) -> float | None:
        return (self.pairs - self.disagreements) / self.pairs if self.pairs else None

    def bounds(self) -> tuple[float, float]:
        """(lower bound at level beta, upper bound at level alpha) of the agreement."""
        a, b = self.plan.prior
        lo_d, _ = rate_bounds(self.pairs, self.disagreements, self.plan.alpha, a, b)
        _, hi_d = rate_bounds(self.pairs, self.disagreements, self.plan.beta, a, b)
        return 1 - hi_d, 1 - lo_d

    def log_e(self, agreement: float) -> float:
        """``ln M_n`` against the disagreement ``1 - agreement``."""
        a, b = self.plan.prior
        return beta_binomial_log_e(self.pairs, self.disagreements, min(1.0, max(0.0, 1 - agreement)), a, b)

    @property
    def failed(self) -> bool:
        d = 1 - self.plan.fail_below
        return bool(self.pairs) and self.disagreements > d * self.pairs and \
            self.log_e(self.plan.fail_below) >= -math.log(self.plan.alpha)

    @property
    def accepted(self) -> bool:
        d = 1 - self.plan.pass_at
        return self.pairs >= self.plan.min_pairs and self.disagreements < d * self.pairs and \
            self.log_e(self.plan.pass_at) >= -math.log(self.plan.beta)

    def to_dict(self) -> dict[str, Any]:
        lcb, ucb = self.bounds() if self.pairs else (None, None)
        p = self.plan
        return {
            "paired_bars": self.pairs, "disagreements": self.disagreements, "agreement": self.agreement,
            "lower_bound": lcb, "upper_bound": ucb, "fail_below": p.fail_below, "pass_at": p.pass_at,
            "min_agreement": p.min_agreement, "expected_agreement": p.expected_agreement,
            "tolerance": p.tolerance, "alpha": p.alpha, "beta": p.beta, "min_pairs": p.min_pairs,
            "canary_only_bars": self.canary_only, "stable_only_bars": self.stable_only,
            "ambiguous_bars": self.ambiguous, "canary_decisions": self.canary_decisions,
            "stable_decisions": self.stable_decisions, "first_bar": self.first_bar, "last_bar": self.last_bar,
            "by_symbol": {s: {"paired_bars": n, "disagreements": k} for s, n, k in
                          ((s, *v) for s, v in sorted(self.by_symbol.items()))},
            "first_disagreements": [{"bar_time": t, "symbol": s, "canary": c, "stable": st}
                                    for t, s, c, st in self.examples],
        }


def _decisions(side: TrackStream | Iterable[Decision]) -> tuple[Decision, ...]:
    return side.decisions if isinstance(side, TrackStream) else tuple(side)


class SignalAgreement:
    """Pairs one phase's decisions as they arrive; every :meth:`observe` returns the new state.

    ``observe(canary, stable)`` takes the decisions read since the last poll (or all of the
    phase again: a pod's decision already seen for a key is not counted twice). Settled keys
    are remembered only inside the pairing horizon (``max_lag_s`` behind the newest paired
    bar): older bars are skipped wholesale, so the state (and a judge's snapshot of it) does
    not grow with the run.
    """

    EXAMPLES = 5

    def __init__(self, plan: AgreementPlan) -> None:
        self.plan = plan
        self.state = AgreementState(plan)
        self._pending: dict[str, dict[tuple[float, str], dict[str, str]]] = {"canary": {}, "stable": {}}
        self._newest: dict[str, float] = {}
        self._done: set[tuple[float, str]] = set()
        # Every key before this bar time is settled (paired, or dropped as one-sided): only keys at
        # or after it are remembered in ``_done``, so the state stays bounded however long the run.
        self._done_before = -math.inf

    def observe(self, canary: TrackStream | Iterable[Decision],
                stable: TrackStream | Iterable[Decision]) -> AgreementState:
        if self.state.problem:
            return self.state
        new = {"canary": _decisions(canary), "stable": _decisions(stable)}
        for track, items in new.items():
            bad = problems(items, track=track)
            if bad:
                self.state = replace(self.state, problem=bad[0])
                return self.state
        s = self.state
        counts = {"canary": s.canary_decisions, "stable": s.stable_decisions}
        for track, items in new.items():
            pending = self._pending[track]
            for i, d in enumerate(items):
                if d.key in self._done or d.key[0] < self._done_before:
                    continue
                pods = pending.setdefault(d.key, {})
                source = d.source or f"#{i}"
                if source not in pods:
                    counts[track] += 1
                pods[source] = d.signal
                self._newest[track] = max(self._newest.get(track, -math.inf), d.bar_time)
        self.state = replace(s, canary_decisions=counts["canary"], stable_decisions=counts["stable"])
        self._pair()
        return self.state

    def _pair(self) -> None:
        s = self.state
        if len(self._newest) < 2:
            return
        settled = min(self._newest.values())  # keys before the newest bar both tracks reached
        can, sta = self._pending["canary"], self._pending["stable"]
        n, k, amb = s.pairs, s.disagreements, s.ambiguous
        by_symbol = dict(s.by_symbol)
        examples = list(s.examples)
        first, last = s.first_bar, s.last_bar
        for key in sorted(set(can) & set(sta)):
            if key[0] >= settled:
                continue
            votes = Counter(sta.pop(key).values()).most_common()
            signals = set(can.pop(key).values())
            self._done.add(key)
            if len(votes) > 1 and votes[0][1] == votes[1][1]:
                amb += 1
                continue
            reference = votes[0][0]
            agree = signals == {reference}
            n += 1
            k += 0 if agree else 1
            sn, sk = by_symbol.get(key[1], (0, 0))
            by_symbol[key[1]] = (sn + 1, sk + (0 if agree else 1))
            if not agree and len(examples) < self.EXAMPLES:
                examples.append((key[0], key[1], "/".join(sorted(signals)), reference))
            first = key[0] if first is None else min(first, key[0])
            last = key[0] if last is None else max(last, key[0])
        horizon = (last if last is not None else settled) - self.plan.max_lag_s
        lost = {"canary": 0, "stable": 0}
        for track, pending in self._pending.items():
            for key in [key for key in pending if key[0] < horizon and key[0] < settled]:
                del pending[key]
                self._done.add(key)
                lost[track] += 1
        # Nothing pending is older than both the horizon and the settled bar any more: what comes
        # later for such a bar could not be paired, so it is skipped rather than remembered key by key.
        self._done_before = max(self._done_before, min(horizon, settled))
        self._done = {key for key in self._done if key[0] >= self._done_before}
        self.state = replace(s, pairs=n, disagreements=k, ambiguous=amb, by_symbol=by_symbol,
                             examples=tuple(examples), first_bar=first, last_bar=last,
                             canary_only=s.canary_only + lost["canary"], stable_only=s.stable_only + lost["stable"])


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.4g} %"


def _invalid(state: object) -> str:
    if not isinstance(state, AgreementState):
        return f"not an agreement state: {type(state).__name__}"
    if state.problem:
        return state.problem
    counts = (state.pairs, state.disagreements, state.canary_only, state.stable_only, state.ambiguous,
              state.canary_decisions, state.stable_decisions)
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
        return f"counts must be non-negative integers, got {counts!r}"
    if state.disagreements > state.pairs:
        return f"{state.disagreements} disagreements in {state.pairs} paired bars"
    return ""


@criterion(needs="at least min_pairs bars decided by both versions (paired by bar and symbol), with the lower "
                 "confidence bound of agreement at or above the expected agreement minus the tolerance")
def signal_agreement(
    state: AgreementState,
    *,
    criterion: str = AGREEMENT,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The agreement verdict for the phase so far (see the module docstring for the bounds)."""
    kw: dict[str, Any] = {"rollback": rollback, "unit": ""}
    problem = _invalid(state)
    if problem:
        return Verdict.error(criterion, f"unusable decision record: {problem}", evidence=tuple(evidence), **kw)
    p = state.plan
    details = state.to_dict()
    window = None if state.first_bar is None or state.last_bar is None else state.last_bar - state.first_bar
    kw["evidence"] = (*evidence, Evidence(
        "decision record", f"paired by bar and symbol; confidence sequence alpha={p.alpha:g} beta={p.beta:g}",
        window, state.pairs, details))
    if state.pairs == 0:
        if state.canary_decisions == 0 and state.stable_decisions == 0:
            why = "no bars decided by either version: the market is closed or no bot decided"
        elif state.canary_decisions == 0:
            why = f"no canary decisions to pair with the stable version's {state.stable_decisions}"
        elif state.stable_decisions == 0:
            why = f"no stable decisions to pair with the canary's {state.canary_decisions}"
        else:
            why = (f"no bar decided by both versions yet ({state.canary_decisions} canary, "
                   f"{state.stable_decisions} stable decisions)")
        return Verdict.inconclusive(criterion, why, threshold=p.fail_below, **kw)
    lcb, ucb = state.bounds()
    q = state.agreement
    assert q is not None
    seen = (f"{state.pairs - state.disagreements} of {state.pairs} paired bars agree ({_pct(q)}), "
            f"confidence sequence [{_pct(lcb)}, {_pct(ucb)}]")
    expected = ("" if p.expected_agreement is None
                else f"; the release states an expected agreement of {_pct(p.expected_agreement)}")
    if state.failed:
        return Verdict.failed(
            criterion, q, p.fail_below,
            f"signal agreement {_pct(q)}: its upper confidence bound {_pct(ucb)} is below the minimum "
            f"{_pct(p.fail_below)} ({seen}; false-rollback bound {p.alpha:g} over the phase){expected}", **kw)
    if state.accepted:
        return Verdict.passed(
            criterion, q, p.pass_at,
            f"signal agreement {_pct(q)}: its lower confidence bound {_pct(lcb)} is at or above "
            f"{_pct(p.pass_at)} (expected {_pct(p.expected)} minus tolerance {_pct(p.tolerance)}; {seen}; "
            f"chance of passing a canary below it at most {p.beta:g}){expected}", **kw)
    need = "" if state.pairs >= p.min_pairs else f", need at least {p.min_pairs} paired bars"
    return Verdict.inconclusive(
        criterion, f"signal agreement {_pct(q)} vs minimum {_pct(p.fail_below)}: not enough bars yet to decide "
                   f"({seen}; PASS needs the lower bound at or above {_pct(p.pass_at)}{need}){expected}",
        observed=q, threshold=p.fail_below, **kw)


@criterion(needs="at least min_pairs bars decided by both versions (paired by bar and symbol), with the lower "
                 "confidence bound of agreement at or above the expected agreement minus the tolerance")
def signal_agreement_of(
    canary: TrackStream | Sequence[Decision],
    stable: TrackStream | Sequence[Decision],
    plan: AgreementPlan,
    *,
    criterion: str = AGREEMENT,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """The agreement verdict over all of a phase's decisions at once. The confidence sequence
    makes this anytime-valid: calling it every poll with the phase's decisions so far is the
    same test as feeding :class:`SignalAgreement` poll by poll."""
    try:
        state = SignalAgreement(plan).observe(canary, stable)
    except TypeError as exc:
        return Verdict.error(criterion, f"unusable decision record: {exc}", evidence=tuple(evidence),
                             rollback=rollback)
    return signal_agreement(state, criterion=criterion, evidence=evidence, rollback=rollback)
