"""Kayenta's remote-judge contract, decided with goldgate's rules.

Kayenta (Spinnaker's canary analysis, also Argo Rollouts' ``kayenta`` provider) fetches a
control and an experiment series per metric and hands them to a judge. This module is that
judge's arithmetic, pure: one :class:`~goldgate.verdict.Verdict` per metric, then the run's
score.

Per metric (:func:`classify_metric`): a two-sided Mann-Whitney U test (normal
approximation with the tie correction; no distribution assumed, as Kayenta's own
classifier) at the configured confidence, and the effect size as the ratio of the
experiment's mean to the control's. A metric is High (Low) only when the difference is
significant, points the way the metric's ``direction`` cares about and its ratio lies
beyond ``allowed_increase`` (``allowed_decrease``); otherwise Pass. What goldgate adds:
fewer usable points than ``min_points`` on either side is Nodata (INCONCLUSIVE), never a
Pass; NaN and infinities are dropped before counting (Kayenta's ``nanStrategy: remove``).

The run (:func:`score_metrics`): each group scores the share of its judged metrics that
passed (Nodata ones are not counted, as Kayenta's weighted-sum scorer), the groups are
combined by their weights, and a High or Low on a ``critical`` metric scores 0. Pass at or
above the pass threshold, Fail below the marginal one, Marginal (INCONCLUSIVE) between;
every metric Nodata is Nodata, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from goldgate.criteria.registry import criterion
from goldgate.verdict import Evidence, Status, Verdict

__all__ = ["MetricResult", "classify_metric", "kayenta_label", "mann_whitney", "score_label", "score_metrics"]

DIRECTIONS = ("either", "increase", "decrease")


def _clean(values: Sequence[object]) -> list[float]:
    out = []
    for v in values or ():
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if math.isfinite(v):
            out.append(float(v))
    return out


def _ranks(values: list[float]) -> tuple[list[float], float]:
    """Mid-ranks of ``values`` and the tie term sum(t^3 - t) for the variance correction."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    return ranks, ties


def mann_whitney(control: list[float], experiment: list[float]) -> tuple[float, float]:
    """(U of the experiment, two-sided p-value) by the normal approximation with tie correction."""
    n1, n2 = len(experiment), len(control)
    ranks, ties = _ranks(experiment + control)
    u = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return u, 1.0
    z = (u - n1 * n2 / 2) / math.sqrt(var)
    return u, math.erfc(abs(z) / math.sqrt(2))


@criterion(needs="min_points finite values in both the control and the experiment series")
def classify_metric(control: Sequence[object], experiment: Sequence[object], *, confidence: float,
                    min_points: int, direction: str = "either", allowed_increase: float = 1.0,
                    allowed_decrease: float = 1.0, criterion: str = "metric") -> Verdict:
    """Pass, High or Low for one metric pair; Nodata (INCONCLUSIVE) on too few points."""
    ctrl, exp = _clean(control), _clean(experiment)
    band = f"p >= {1 - confidence:.3g} or mean ratio within [1/{allowed_decrease:g}, {allowed_increase:g}]"
    details: dict[str, object] = {"control_points": len(ctrl), "experiment_points": len(exp),
                                  "dropped": (len(control or ()) - len(ctrl)) + (len(experiment or ()) - len(exp))}
    ev = Evidence("kayenta metricSetPair", criterion, samples=min(len(ctrl), len(exp)), details=details)
    if direction not in DIRECTIONS:
        return Verdict.error(criterion, f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}",
                             threshold=band, evidence=ev)
    if not (0 < confidence < 1) or min_points < 2:
        return Verdict.error(criterion, f"unusable settings: confidence {confidence!r}, min_points {min_points!r}",
                             threshold=band, evidence=ev)
    if len(ctrl) < min_points or len(exp) < min_points:
        return Verdict.inconclusive(criterion, f"Nodata: {len(ctrl)} control and {len(exp)} experiment finite "
                                    f"points, fewer than {min_points} on a side", threshold=band, evidence=ev)
    _, p = mann_whitney(ctrl, exp)
    mean_c, mean_e = sum(ctrl) / len(ctrl), sum(exp) / len(exp)
    ratio = mean_e / mean_c if mean_c != 0 else (1.0 if mean_e == 0 else math.copysign(math.inf, mean_e))
    higher = mean_e > mean_c
    details.update(p_value=round(p, 6), control_mean=mean_c, experiment_mean=mean_e)
    significant = p < 1 - confidence
    too_high = significant and higher and direction in ("either", "increase") and ratio > allowed_increase
    too_low = significant and not higher and direction in ("either", "decrease") and (
        ratio <= 0 or ratio < 1 / allowed_decrease)
    if too_high or too_low:
        details["direction"] = "High" if too_high else "Low"
        ev = Evidence("kayenta metricSetPair", criterion, samples=min(len(ctrl), len(exp)), details=details)
        return Verdict.failed(criterion, ratio, band, f"{details['direction']}: experiment mean {mean_e:.6g} vs "
                              f"control {mean_c:.6g}, Mann-Whitney p={p:.3g}", evidence=ev)
    ev = Evidence("kayenta metricSetPair", criterion, samples=min(len(ctrl), len(exp)), details=details)
    return Verdict.passed(criterion, ratio, band, f"Mann-Whitney p={p:.3g}", evidence=ev)


def kayenta_label(verdict: Verdict) -> str:
    """Kayenta's word for a metric verdict: Pass, High, Low, Nodata or Error."""
    if verdict.status is Status.PASS:
        return "Pass"
    if verdict.status is Status.FAIL:
        for ev in verdict.evidence:
            if ev.details.get("direction") in ("High", "Low"):
                return str(ev.details["direction"])
        return "High"
    return "Nodata" if verdict.status is Status.INCONCLUSIVE else "Error"


@dataclass(frozen=True)
class MetricResult:
    """A metric's verdict with what the canary config says about it."""

    verdict: Verdict
    groups: tuple[str, ...] = ()
    critical: bool = False


@criterion(needs="at least one metric judged Pass, High or Low; every metric Nodata is Nodata")
def score_metrics(results: Sequence[MetricResult], *, pass_threshold: float, marginal_threshold: float,
                  group_weights: Mapping[str, float] | None = None, criterion: str = "canary score") -> Verdict:
    """The run's score 0-100 and its class (Pass / Marginal / Fail / Nodata)."""
    threshold = {"pass": pass_threshold, "marginal": marginal_threshold}
    if not (0 <= marginal_threshold <= pass_threshold <= 100):
        return Verdict.error(criterion, f"scoreThresholds: marginal {marginal_threshold!r} <= pass "
                             f"{pass_threshold!r} within 0-100 must hold", threshold=threshold)
    groups: dict[str, list[bool]] = {}
    for r in results:
        if r.verdict.status not in (Status.PASS, Status.FAIL):
            continue
        for g in r.groups or ("default",):
            groups.setdefault(g, []).append(r.verdict.status is Status.PASS)
    judged = sum(len(v) for v in groups.values())
    details = {"groups": {g: round(100 * sum(v) / len(v), 2) for g, v in groups.items()}}
    ev = Evidence("kayenta", "metricSetPairList", samples=judged, details=details)
    if not groups:
        errors = [r.verdict for r in results if r.verdict.status is Status.ERROR]
        if errors:
            return Verdict.error(criterion, "; ".join(v.message() for v in errors), threshold=threshold, evidence=ev)
        return Verdict.inconclusive(criterion, f"Nodata: none of {len(results)} metrics had enough points",
                                    threshold=threshold, evidence=ev)
    weights = {g: float((group_weights or {}).get(g, 1.0)) for g in groups}
    total = sum(w for w in weights.values() if w > 0 and math.isfinite(w))
    if total <= 0:
        return Verdict.error(criterion, "classifier.groupWeights: no positive weight for the judged groups",
                             threshold=threshold, evidence=ev)
    score = sum(weights[g] * 100 * sum(v) / len(v) for g, v in groups.items()
                if weights[g] > 0 and math.isfinite(weights[g])) / total
    critical = [r.verdict.criterion for r in results if r.critical and r.verdict.status is Status.FAIL]
    if critical:
        return Verdict.failed(criterion, 0.0, threshold, f"critical metric failed: {', '.join(critical)}",
                              evidence=ev)
    score = round(score, 2)
    if score >= pass_threshold:
        return Verdict.passed(criterion, score, threshold, f"{judged} metrics judged", evidence=ev)
    if score < marginal_threshold:
        return Verdict.failed(criterion, score, threshold, f"score {score:g} below marginal {marginal_threshold:g}",
                              evidence=ev)
    return Verdict.inconclusive(criterion, f"Marginal: score {score:g} between marginal {marginal_threshold:g} and "
                                f"pass {pass_threshold:g}", observed=score, threshold=threshold, evidence=ev)


def score_label(verdict: Verdict) -> str:
    """Kayenta's word for the run's score verdict."""
    if verdict.status is Status.PASS:
        return "Pass"
    if verdict.status is Status.FAIL:
        return "Fail"
    if verdict.status is Status.ERROR:
        return "Error"
    return "Marginal" if str(verdict.reason).startswith("Marginal") else "Nodata"

