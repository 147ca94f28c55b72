"""The post-deploy count stops on the window and the planned sample size, never on errors."""

from __future__ import annotations

from goldgate.probes.metrics import Measurement, RequestCounts
from goldgate.rollout.post_deploy import count_requests


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Window:
    """100 requests per second, every tenth request an error after ``bad_after`` seconds."""

    def __init__(self, clock: _Clock, bad_after: float = 1e9, error: str = "") -> None:
        self.clock, self.bad_after, self.error = clock, bad_after, error
        self.advances = 0

    def advance(self) -> None:
        self.advances += 1

    def request_counts(self) -> Measurement:
        if self.error:
            return Measurement("fake", "q", error=self.error)
        t = self.clock()
        errors = max(0.0, t - self.bad_after) * 10
        return Measurement("fake", "q", counts=RequestCounts(100 * t, errors), window_s=t)


def test_runs_the_whole_window_even_when_the_sample_is_reached_early() -> None:
    clock = _Clock()
    got = count_requests(_Window(clock), min_window_s=60, planned_requests=2995, deadline_s=600, poll_s=2,
                         clock=clock, sleep=clock.sleep)
    assert got.covered_s == 60 and got.measurement.counts.total == 6000


def test_keeps_counting_until_the_planned_sample_then_stops() -> None:
    clock = _Clock()
    got = count_requests(_Window(clock, bad_after=5), min_window_s=15, planned_requests=2995, deadline_s=600,
                         poll_s=2, clock=clock, sleep=clock.sleep)
    assert got.covered_s == 31 and got.measurement.counts.total >= 2995  # errors did not stop it early


def test_deadline_and_errors_end_the_count() -> None:
    clock = _Clock()
    got = count_requests(_Window(clock), min_window_s=15, planned_requests=10**9, deadline_s=40, poll_s=2,
                         clock=clock, sleep=clock.sleep)
    assert got.covered_s == 40
    clock = _Clock()
    failed = count_requests(_Window(clock, error="refused"), min_window_s=15, planned_requests=10, deadline_s=40,
                            poll_s=2, clock=clock, sleep=clock.sleep)
    assert failed.measurement.error == "refused" and failed.covered_s == 15
