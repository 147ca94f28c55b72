"""RollbackMonitor end to end on canned measurements: each §6.1 trigger on its own turns
the assessment into ROLLBACK, the §8 alerts never do, and thin data only holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldgate.config import load_environment
from goldgate.criteria.resources import PodUsage
from goldgate.probes.metrics import Measurement, RequestCounts
from goldgate.probes.workloads import PodFact
from goldgate.rollout.monitor import (
    CPU,
    DISK,
    ERROR_RATE,
    HEALTH,
    MEMORY,
    OOM,
    P95_BASELINE,
    Group,
    Outcome,
    RollbackMonitor,
)
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]


class FakeSource:
    """A Prometheus-like source (no scrape windows) answering from fixed numbers."""

    name = "fake"

    def __init__(self, *, requests: float = 1000, errors: float = 0, p95_s: float = 0.04,
                 baseline_p95_s: float = 0.04, free: float = 0.5, stable_errors: float = 0) -> None:
        self.requests, self.errors, self.p95, self.baseline, self.free = requests, errors, p95_s, baseline_p95_s, free
        self.stable_errors = stable_errors

    def request_counts(self, window_s: float, selector: Any) -> Measurement:
        stable = selector.labels.get("track") == "stable"
        counts = RequestCounts(self.requests, self.stable_errors if stable else self.errors)
        return Measurement("fake", "requests", counts.ratio, int(self.requests), window_s, counts=counts)

    def latency_quantile(self, q: float, window_s: float, selector: Any) -> Measurement:
        value = self.baseline if selector.labels.get("track") == "stable" else self.p95
        return Measurement("fake", "p95", value, int(self.requests), window_s)

    def instant(self, name: str, selector: Any) -> Measurement:
        value = self.free * 100 if "avail" in name else 100.0
        return Measurement("fake", name, value, 1, series=({"pod": "c-1", "mountpoint": "/data", "value": value},))


def _pod(restarts: int = 0, last: str = "", at: float | None = None, ready: bool = True) -> PodFact:
    return PodFact("c-1", {"track": "canary"}, "Running", ready, False, 0.0, restarts, "", last, at)


def _monitor(source: FakeSource, pods: list[PodFact] | None = None, usage: list[PodUsage] | None = None,
             ) -> RollbackMonitor:
    env = load_environment("local", ROOT / "environments")
    state = {"pods": [_pod()]}
    m = RollbackMonitor(env, kube=None, source=source, group=Group("canary", {"track": "canary"}, "trading"),
                        baseline=Group("stable", {"track": "stable"}, "trading"),
                        pods=lambda sel: state["pods"],
                        usage=lambda sel: usage or [PodUsage("c-1", 0.1, 1.0, 1e8, 1e9)])
    m.start()
    if pods is not None:
        state["pods"] = pods
    return m


def _by_name(a: Any) -> dict[str, Any]:
    return {v.criterion: v for v in a.verdicts}


def test_a_healthy_canary_passes_every_trigger() -> None:
    a = _monitor(FakeSource()).evaluate()
    assert a.outcome is Outcome.PASS, a.summary()


@pytest.mark.parametrize(("source", "pods", "criterion"), [
    (FakeSource(errors=30), None, ERROR_RATE),
    (FakeSource(p95_s=0.2, baseline_p95_s=0.04), None, P95_BASELINE),
    (FakeSource(free=0.05), None, DISK),
    (FakeSource(), lambda: [_pod(restarts=1, last="Error")], HEALTH),
    (FakeSource(), lambda: [_pod(restarts=1, last="OOMKilled", at=time.time())], OOM),  # killed just now
])
def test_each_trigger_on_its_own_rolls_back(source: FakeSource, pods: Callable[[], list[PodFact]] | None,
                                            criterion: str) -> None:
    a = _monitor(source, pods() if pods else None).evaluate()
    assert a.outcome is Outcome.ROLLBACK, a.summary()
    assert a.breaches[0].criterion == criterion
    assert "vs threshold" in a.breaches[0].message()


def test_cpu_and_memory_alerts_never_roll_back() -> None:
    a = _monitor(FakeSource(), usage=[PodUsage("c-1", 0.9, 1.0, 9e8, 1e9)]).evaluate()
    v = _by_name(a)
    assert v[CPU].status is Status.FAIL and "90 % vs maximum 70 %" in v[CPU].reason
    assert v[MEMORY].status is Status.FAIL and "90 % vs maximum 80 %" in v[MEMORY].reason
    assert a.outcome is Outcome.PASS
    assert {x.criterion for x in a.alerts} == {CPU, MEMORY}


def test_too_few_requests_holds_instead_of_passing() -> None:
    a = _monitor(FakeSource(requests=20, errors=0)).evaluate()
    assert a.outcome is Outcome.HOLD
    assert _by_name(a)[ERROR_RATE].status is Status.INCONCLUSIVE


def _alone(source: FakeSource, env: Any = None, **kw: Any) -> RollbackMonitor:
    """A group watched without stable pods (a rolling update, a switch, goldgate watch)."""
    env = env or load_environment("local", ROOT / "environments")
    m = RollbackMonitor(env, kube=None, source=source, group=Group("release", {"app": "bot"}, "trading"),
                        pods=lambda sel: [_pod()], usage=lambda sel: [PodUsage("c-1", 0.1, 1.0, 1e8, 1e9)], **kw)
    m.start()
    return m


def test_a_missing_baseline_holds_instead_of_passing() -> None:
    m = _alone(FakeSource())
    a = m.evaluate()
    v = _by_name(a)[P95_BASELINE]
    assert v.status is Status.INCONCLUSIVE and v.rollback and "no baseline" in v.reason
    assert a.outcome is Outcome.HOLD
    assert any("strategy.baseline: none" in n for n in m.notes)


@pytest.mark.parametrize("stored", [float("inf"), float("nan"), 0.0])
def test_an_infinite_or_nan_stored_baseline_is_an_error(stored: float) -> None:
    a = _alone(FakeSource(), baseline_p95_s=stored).evaluate()
    v = _by_name(a)[P95_BASELINE]
    assert v.status is Status.ERROR and "not a measured latency" in v.reason
    assert a.outcome is Outcome.HOLD


def test_an_explicit_waiver_takes_the_baseline_rule_out_visibly() -> None:
    env = load_environment("local", ROOT / "environments")
    env = env.model_copy(update={"strategy": env.strategy.model_copy(update={"baseline": "none"})})
    m = _alone(FakeSource(), env=env)
    a = m.evaluate()
    v = _by_name(a)[P95_BASELINE]
    assert v.status is Status.INCONCLUSIVE and not v.rollback and "WAIVED" in v.reason
    assert a.outcome is Outcome.PASS, a.summary()
    assert any("waived" in n for n in m.notes)


def test_traffic_that_stops_turns_a_pass_into_inconclusive() -> None:
    """The stale PASS: FakeSource's cumulative counters never grow after the first reading,
    i.e. the traffic stopped; the error-rate trigger says since when."""
    now = {"t": 0.0}
    m = _alone(FakeSource(), baseline_p95_s=0.04, clock=lambda: now["t"], max_gap_s=5.0)
    now["t"] = 2.0
    assert _by_name(m.evaluate())[ERROR_RATE].status is Status.PASS
    verdicts = []
    for _ in range(4):
        now["t"] += 2.0
        verdicts.append(_by_name(m.evaluate())[ERROR_RATE])
    assert verdicts[0].status is Status.PASS  # 2 s quiet: within max_gap_s
    assert verdicts[-1].status is Status.INCONCLUSIVE and "no requests since 2s" in verdicts[-1].reason


def test_the_monitor_constructs_no_verdicts() -> None:
    """One place decides: the monitor schedules, feeds and carries; criteria/ decide."""
    text = (ROOT / "src" / "goldgate" / "rollout" / "monitor.py").read_text()
    for construction in ("Verdict(", "Verdict.passed", "Verdict.failed", "Verdict.error", "Verdict.inconclusive"):
        assert construction not in text


def test_errors_both_versions_share_are_not_the_canarys() -> None:
    a = _monitor(FakeSource(errors=30, stable_errors=30)).evaluate()  # 3 % on canary and stable alike
    v = _by_name(a)[ERROR_RATE]
    assert v.status is not Status.FAIL and a.outcome is not Outcome.ROLLBACK, a.summary()
    assert "paired with the stable pods" in v.reason


def test_a_latency_burst_both_versions_share_does_not_fire_the_baseline_rule() -> None:
    # the p95-vs-baseline rule compares the canary's and the stable's p95 over the same window
    a = _monitor(FakeSource(p95_s=0.3, baseline_p95_s=0.3)).evaluate()
    assert _by_name(a)[P95_BASELINE].status is Status.PASS, a.summary()


def test_the_lone_release_says_which_error_rate_test_ran() -> None:
    m = _alone(FakeSource())
    assert any("error rate: lone release" in n for n in m.notes), m.notes
    v = _by_name(m.evaluate())[ERROR_RATE]
    assert "lone release" in v.reason and "default phi=" in v.reason


class _GrowingSource(FakeSource):
    """Cumulative counters that grow by ``step`` requests (and ``errors`` of them) per read."""

    def __init__(self, step: int = 100, errors: int = 1) -> None:
        super().__init__()
        self.reads, self.step, self.errs = 0, step, errors

    def request_counts(self, window_s: float, selector: Any) -> Measurement:
        self.reads += 1
        counts = RequestCounts(self.step * self.reads, self.errs * self.reads)
        return Measurement("fake", "requests", counts.ratio, int(counts.total), window_s, counts=counts)


def test_poll_history_reads_per_poll_counts_of_the_version_serving() -> None:
    from goldgate.probes.metrics import Selector
    from goldgate.rollout.monitor import PollHistory
    from goldgate.rollout.sources import GrowingWindow

    clock = iter(range(100))
    source = _GrowingSource()
    history = PollHistory(GrowingWindow(source, Selector({"app": "bot"}, "trading"), lambda: 0.0),
                          lambda: float(next(clock)), "blue before the switch")
    for _ in range(5):
        history.record()
    assert history.stats.polls == 4 and history.stats.requests == 400 and history.stats.errors == 4


def test_a_canary_phase_hands_its_stable_pods_counts_to_the_next() -> None:
    m = _monitor(FakeSource(errors=1, stable_errors=2))
    m.evaluate()
    h = m.stable_history()
    assert h is not None and h.stats.polls == 1 and h.stats.errors == 2 and "stable pods" in h.source
