"""Smooth weighted round robin: exact shares per cycle, interleaved, weight 0 never picked."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from goldgate.sandbox.controllers.weighted import SmoothWeightedRoundRobin

weights = st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5)


@given(weights)
def test_every_cycle_gives_each_backend_exactly_its_weight(ws: list[int]) -> None:
    wrr = SmoothWeightedRoundRobin([(f"b{i}", w) for i, w in enumerate(ws)])
    total = sum(ws)
    picks = [wrr.next() for _ in range(2 * total)]
    if total == 0:
        assert picks == []  # nothing routable: every pick is None
        assert wrr.next() is None
        return
    for i, w in enumerate(ws):
        assert picks.count(f"b{i}") == 2 * w


def test_the_canary_share_is_spread_not_bunched() -> None:
    wrr = SmoothWeightedRoundRobin([("stable", 90), ("canary", 10)])
    picks = [wrr.next() for _ in range(100)]
    positions = [i for i, p in enumerate(picks) if p == "canary"]
    assert len(positions) == 10
    assert all(b - a == 10 for a, b in itertools.pairwise(positions))


def test_new_weights_restart_the_cycle_and_zero_is_never_picked() -> None:
    wrr = SmoothWeightedRoundRobin([("stable", 50), ("canary", 50)])
    [wrr.next() for _ in range(7)]
    wrr.set([("stable", 100), ("canary", 0)])
    assert {wrr.next() for _ in range(50)} == {"stable"}
    wrr.set([("stable", -5), ("canary", 0)])
    assert wrr.next() is None
