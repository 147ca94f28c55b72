"""RollbackMonitor with a stored baseline and no stable beside the release: the p95-vs-baseline
trigger counts each poll's slow requests from the histogram buckets (criteria/lone_latency.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from goldgate.config import load_environment
from goldgate.criteria.resources import PodUsage
from goldgate.probes.metrics import Measurement, RequestCounts
from goldgate.probes.workloads import PodFact
from goldgate.rollout.monitor import P95_BASELINE, Group, Outcome, RollbackMonitor
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]
BOUNDS = (0.05, 0.1, 0.2, 0.4, 0.8, math.inf)


class GrowingSource:
    """A Prometheus-like source whose window grows by ``per_poll`` requests a reading, ``slow`` of
    them in the (0.4, 0.8] bucket (above 2x a 0.1 s stored p95) and the rest at or below 0.05 s."""

    name = "fake"

    def __init__(self, slow: list[float], per_poll: int = 1000) -> None:
        self.slow, self.per_poll, self.reads = slow, per_poll, 0
        self.buckets = dict.fromkeys(BOUNDS, 0.0)

    def request_counts(self, window_s: float, selector: Any) -> Measurement:
        total = self.per_poll * self.reads
        return Measurement("fake", "requests", 0.0, total, window_s, counts=RequestCounts(total, 0))

    def latency_quantile(self, q: float, window_s: float, selector: Any) -> Measurement:
        share = self.slow[min(self.reads, len(self.slow) - 1)]
        self.reads += 1
        slow = round(self.per_poll * share)
        for le in BOUNDS:
            self.buckets[le] += self.per_poll - slow if le < 0.4 else (self.per_poll if le >= 0.8 else self.per_poll - slow)
        total = self.buckets[math.inf]
        return Measurement("fake", "p95", 0.6 if share > 0.05 else 0.05, int(total), window_s,
                           buckets=tuple(self.buckets.items()))

    def instant(self, name: str, selector: Any) -> Measurement:
        value = 50.0 if "avail" in name else 100.0
        return Measurement("fake", name, value, 1, series=({"pod": "r-1", "mountpoint": "/data", "value": value},))


def _alone(source: GrowingSource) -> RollbackMonitor:
    env = load_environment("local", ROOT / "environments")
    now = {"t": 0.0}

    def clock() -> float:  # 10 s between readings
        now["t"] += 5.0
        return now["t"]

    pod = PodFact("r-1", {"app": "bot"}, "Running", True, False, 0.0, 0, "", "", None)
    m = RollbackMonitor(env, kube=None, source=source, group=Group("release", {"app": "bot"}, "trading"),
                        baseline_p95_s=0.1, pods=lambda sel: [pod],
                        usage=lambda sel: [PodUsage("r-1", 0.1, 1.0, 1e8, 1e9)], clock=clock)
    m.start()
    return m


def test_a_lone_release_slower_than_twice_the_stored_baseline_is_rolled_back_on_slow_requests() -> None:
    m = _alone(GrowingSource([0.0, 0.0, 0.3]))
    verdicts = [{v.criterion: v for v in m.evaluate().verdicts}[P95_BASELINE] for _ in range(20)]
    failed = [v for v in verdicts if v.status is Status.FAIL]
    assert failed, [v.reason for v in verdicts]
    assert "200.0 ms" in failed[0].reason and "slower than L" in failed[0].reason and failed[0].threshold == 0.05


def test_a_single_slow_poll_of_a_lone_release_holds_at_worst_and_later_calm_polls_pass() -> None:
    m = _alone(GrowingSource([0.0, 0.0, 0.0, 0.0, 0.25, 0.0]))
    outcomes = []
    for _ in range(24):
        a = m.evaluate()
        outcomes.append(a.outcome)
        v = {x.criterion: x for x in a.verdicts}[P95_BASELINE]
        assert v.status is not Status.FAIL, v.reason
    assert Outcome.ROLLBACK not in outcomes and outcomes[-1] is Outcome.PASS
