"""Counting a release's requests for the §5.3 error rate: a window, and a planned sample size.

At 0.1 % the decision needs thousands of requests (see :mod:`goldgate.criteria.post_deploy`),
more than a quiet or a scaled-down window may hold. The count therefore runs for at least
the configured window *and* until the sample size planned before the first look (the
requests a clean window needs for its bound to fall under the limit) is reached, up to a
deadline. The stopping rule depends only on how many requests arrived, never on how many
failed, so stopping does not bias the exact bound; the window actually covered is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from goldgate.probes.metrics import Measurement
from goldgate.rollout.sources import GrowingWindow

__all__ = ["PostDeployCount", "count_requests"]


@dataclass(frozen=True)
class PostDeployCount:
    measurement: Measurement
    covered_s: float
    planned_requests: int


def count_requests(window: GrowingWindow, *, min_window_s: float, planned_requests: int, deadline_s: float,
                   poll_s: float, clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> PostDeployCount:
    """Advance ``window`` until ``min_window_s`` has passed and ``planned_requests`` arrived (or the deadline)."""
    start = clock()
    window.advance()
    while True:
        elapsed = clock() - start
        wait = min_window_s - elapsed if elapsed < min_window_s else poll_s
        sleep(max(0.0, min(wait, deadline_s - elapsed)))
        window.advance()
        m = window.request_counts()
        elapsed = clock() - start
        if m.error or elapsed >= deadline_s:
            break
        total = m.counts.rounded()[0] if m.counts is not None else 0
        if elapsed >= min_window_s and total >= planned_requests:
            break
    return PostDeployCount(m, round(elapsed, 2), planned_requests)
