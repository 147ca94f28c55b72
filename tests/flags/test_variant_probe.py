"""The per-variant window read from the pods' counters, on scripted scrapes: increases summed
over pods, a restarted pod's counter counted from zero, a pod born in the window counted in
full, an unreadable pod an error naming it (never a partial split)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from goldgate.probes.flag_variants import VariantCounts, VariantReadError
from goldgate.probes.metrics.scrape import ScrapeResult, Target

METRIC = "bot_flag_variant_requests_total"


def _result(pod: str, counts: dict[str, float] | None, flag: str = "ab") -> ScrapeResult:
    target = Target(f"http://127.0.0.1:1/{pod}/metrics", {"pod": pod})
    if counts is None:
        return ScrapeResult(target, 0.0, error=f"{target.url}: connection failed (ConnectionError)")
    samples = {(METRIC, (("flag", flag), ("variant", v))): n for v, n in counts.items()}
    samples[(METRIC, (("flag", "other"), ("variant", "X")))] = 99.0
    return ScrapeResult(target, 0.0, samples)


class Scripted:
    """A scrape source answering the given rounds in turn."""

    def __init__(self, rounds: Sequence[Sequence[ScrapeResult]]) -> None:
        self.rounds = list(rounds)

    def snapshot(self, selector: Any) -> tuple[ScrapeResult, ...]:
        return tuple(self.rounds.pop(0))


def _counter(rounds: Sequence[Sequence[ScrapeResult]]) -> VariantCounts:
    return VariantCounts(Scripted(rounds), "trading", "app=trading-bot", METRIC,  # type: ignore[arg-type]
                         clock=iter([0.0, 10.0]).__next__, sleep=lambda _s: None)


def test_increases_are_summed_over_pods_restarts_and_new_pods_counted() -> None:
    start = [_result("p1", {"A": 100, "B": 90}), _result("p2", {"A": 50, "B": 60})]
    end = [_result("p1", {"A": 150, "B": 145}), _result("p2", {"A": 7, "B": 3}), _result("p3", {"A": 4})]
    [window] = _counter([start, end]).over_window(["ab"], 10.0)
    assert window.counts == {"A": 50 + 7 + 4, "B": 55 + 3}
    assert window.pods == ("p1", "p2", "p3") and window.window_s == 10.0
    assert window.per_pod["p2"] == {"A": 7, "B": 3}


def test_an_unreadable_pod_is_an_error_naming_it() -> None:
    with pytest.raises(VariantReadError, match=r"pod p2: .*connection failed"):
        _counter([[_result("p1", {"A": 1}), _result("p2", None)]]).over_window(["ab"], 10.0)
