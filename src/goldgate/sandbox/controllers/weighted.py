"""Smooth weighted round robin: which backendRef of a route takes the next request.

The gateway proxy splits requests between a route's backendRefs by their ``weight``.
Two classic choices exist: weighted random (Envoy's ``weighted_clusters``) and the smooth
weighted round robin NGINX uses for ``upstream`` weights. This picks the second, because
the sandbox's canary phases are seconds, not the guide's 30 minutes:

* weighted random at 50 req/s over a 12 s phase (600 requests) has a standard deviation of
  ``sqrt(0.1 * 0.9 / 600)`` ≈ 1.2 percentage points at 10 %, so about one phase in ten
  would land outside ±2 points by chance alone, and nothing about the release would be
  learnt from it;
* smooth WRR is exact over every cycle of ``sum(weights)`` picks and interleaves the
  backends inside the cycle (10/90 gives one canary pick every ten, never ten in a row), so
  the observed share is the weight to within one cycle, at any rate and any duration.

Each pick adds every backend's weight to its running score, takes the highest score and
subtracts the total from it. Backends with weight 0 are never picked; a change of weights
restarts the cycle (scores reset), as NGINX does on reload.

Examples::

    wrr = SmoothWeightedRoundRobin([("stable", 90), ("canary", 10)])
    [wrr.next() for _ in range(10)].count("canary")   # 1
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["SmoothWeightedRoundRobin"]

K = TypeVar("K", bound=Hashable)


class SmoothWeightedRoundRobin(Generic[K]):
    """Deterministic weighted choice among ``(key, weight)`` pairs."""

    def __init__(self, weights: Sequence[tuple[K, int]] = ()) -> None:
        self._weights: list[tuple[K, int]] = []
        self._score: dict[K, int] = {}
        self.set(weights)

    @property
    def weights(self) -> list[tuple[K, int]]:
        return list(self._weights)

    def set(self, weights: Sequence[tuple[K, int]]) -> None:
        """Take new weights; negative weights count as 0 (never picked)."""
        fresh = [(key, max(0, int(weight))) for key, weight in weights]
        if fresh == self._weights:
            return
        self._weights = fresh
        self._score = {key: 0 for key, _ in fresh}

    def next(self) -> K | None:
        """The next key, or None when every weight is 0 (nothing may be routed)."""
        total = 0
        best: K | None = None
        for key, weight in self._weights:
            if weight <= 0:
                continue
            self._score[key] += weight
            total += weight
            if best is None or self._score[key] > self._score[best]:
                best = key
        if best is None:
            return None
        self._score[best] -= total
        return best
