"""p95 latency criteria of guide §6.1 and §8.

* Rollback: p95 above ``factor`` x the baseline, where the baseline is the stable
  version's p95 over the same window or a stored value.
* Alert:    p95 above an absolute budget (guide: 500 ms); a FAIL with ``rollback=False``.

Both need ``min_samples`` requests behind every p95 they compare (the canary's and, for
the relative rule, the baseline's): a quantile of a handful of requests is noise, so it
is INCONCLUSIVE rather than a PASS or a rollback.

Histogram quantiles are interpolated inside buckets; two p95s in the same bucket compare
by interpolation only (see goldgate.probes.metrics.promtext for the resolution limit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from goldgate.verdict import Evidence, Verdict

__all__ = ["p95_above_budget", "p95_vs_baseline"]


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.1f} ms"


def _missing(x: float | None) -> bool:
    return x is None or math.isnan(x)


def _too_thin(criterion: str, q: str, p95_s: float | None, samples: int | None, min_samples: int,
              window: str, threshold: float | None, kw: dict[str, Any]) -> Verdict | None:
    """INCONCLUSIVE when there is no p95 or it rests on fewer than ``min_samples`` requests.

    Both latency rules share this: a quantile of a handful of requests is noise, never a
    PASS nor a breach. ``None`` means the p95 is solid enough to be compared.
    """
    if _missing(p95_s):
        return Verdict.inconclusive(criterion, f"no {q} measured{window}", threshold=threshold, **kw)
    if samples is None or samples < min_samples:
        return Verdict.inconclusive(
            criterion, f"{q} {_ms(p95_s)} rests on {samples} requests{window}, need at least "
                       f"{min_samples}", observed=p95_s, threshold=threshold, **kw)
    return None


def p95_vs_baseline(
    p95_s: float | None,
    baseline_s: float | None,
    *,
    factor: float,
    min_samples: int,
    samples: int | None,
    baseline_samples: int | None,
    window_s: float | None,
    criterion: str = "p95 latency vs baseline",
    quantile: float = 0.95,
    evidence: Iterable[Evidence] = (),
    rollback: bool = True,
) -> Verdict:
    """FAIL (rollback) when ``p95_s > factor * baseline_s``.

    ``baseline_samples=None`` means a stored baseline (no sample count to check).
    """
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    threshold = None if _missing(baseline_s) else factor * baseline_s  # type: ignore[operator]
    window = f" over {window_s:g}s" if window_s is not None else ""
    kw = {"evidence": tuple(evidence), "rollback": rollback, "unit": "s"}
    q = f"p{quantile * 100:g}"
    thin = _too_thin(criterion, q, p95_s, samples, min_samples, window, threshold, kw)
    if thin is not None:
        return thin
    if threshold is None:
        return Verdict.inconclusive(criterion, f"no baseline {q} to compare {_ms(p95_s)} with",
                                    observed=p95_s, **kw)
    if baseline_s <= 0:  # type: ignore[operator]
        return Verdict.inconclusive(criterion, f"baseline {q} is {_ms(baseline_s)}: not a usable baseline",
                                    observed=p95_s, threshold=threshold, **kw)
    if baseline_samples is not None and baseline_samples < min_samples:
        return Verdict.inconclusive(
            criterion, f"baseline {q} {_ms(baseline_s)} rests on {baseline_samples} requests{window}, "
                       f"need at least {min_samples}", observed=p95_s, threshold=threshold, **kw)
    ratio = p95_s / baseline_s  # type: ignore[operator]
    text = (f"{q} {_ms(p95_s)} is {ratio:.2f}x the baseline {_ms(baseline_s)} "
            f"(limit {factor:g}x = {_ms(threshold)}; {samples} requests{window})")
    if p95_s > threshold:  # type: ignore[operator]
        return Verdict.failed(criterion, p95_s, threshold, text, **kw)
    return Verdict.passed(criterion, p95_s, threshold, text, **kw)


def p95_above_budget(
    p95_s: float | None,
    *,
    budget_s: float,
    min_samples: int,
    samples: int | None,
    window_s: float | None,
    criterion: str = "p95 latency budget",
    quantile: float = 0.95,
    evidence: Iterable[Evidence] = (),
    rollback: bool = False,
) -> Verdict:
    """FAIL when ``p95_s > budget_s``; an alert by default (``rollback=False``)."""
    window = f" over {window_s:g}s" if window_s is not None else ""
    kw = {"evidence": tuple(evidence), "rollback": rollback, "unit": "s"}
    q = f"p{quantile * 100:g}"
    thin = _too_thin(criterion, q, p95_s, samples, min_samples, window, budget_s, kw)
    if thin is not None:
        return thin
    text = f"{q} {_ms(p95_s)} vs budget {_ms(budget_s)} ({samples} requests{window})"
    if p95_s > budget_s:  # type: ignore[operator]
        return Verdict.failed(criterion, p95_s, budget_s, f"above budget: {text}", **kw)
    return Verdict.passed(criterion, p95_s, budget_s, text, **kw)
