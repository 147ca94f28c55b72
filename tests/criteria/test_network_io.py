"""§8.3 network I/O: bytes per served request against the team's baseline, both ways."""

from __future__ import annotations

import math

import pytest

from goldgate.criteria.network_io import network_io_per_request
from goldgate.probes.pod_network import DeltaState, NetworkDeltas, PodDelta
from goldgate.verdict import Status

BASELINE = 2_000.0  # bytes in + out per request, as a team states it
FACTOR = 2.0


def _window(*pods: PodDelta, elapsed_s: float = 30.0) -> NetworkDeltas:
    return NetworkDeltas("trading", "app=trading-bot", tuple(pods), elapsed_s, ("node-a",))


def _pod(name: str, rx: float, tx: float, state: DeltaState = DeltaState.MEASURED, note: str = "") -> PodDelta:
    return PodDelta(name, state, rx, tx, "node-a", note)


def _judge(deltas: NetworkDeltas, requests: int, baseline: float | None = BASELINE, factor: float = FACTOR,
           min_requests: int = 200):
    return network_io_per_request(deltas, requests, baseline_bytes_per_request=baseline, factor=factor,
                                  min_requests=min_requests)


def test_healthy_release_moves_its_baseline_per_request() -> None:
    # 500 requests, 2 pods, 1.1 MB in total: 2,200 bytes per request, inside 1,000 .. 4,000
    v = _judge(_window(_pod("bot-a", 300_000, 250_000), _pod("bot-b", 310_000, 240_000)), 500)
    assert v.status is Status.PASS, v.message()
    assert v.observed == pytest.approx(2_200.0)
    assert v.threshold == (1_000.0, 4_000.0)
    assert "2,200 bytes per request" in v.message() and "baseline 2,000" in v.message()
    assert v.evidence[0].details["pods"]["bot-a"]["rx_bytes"] == 300_000


def test_padded_release_fails_above_baseline_times_factor() -> None:
    # every answer padded: 5 MB for 500 requests = 10,000 bytes per request > 4,000
    v = _judge(_window(_pod("bot-a", 1_000_000, 1_500_000), _pod("bot-b", 1_000_000, 1_500_000)), 500)
    assert v.status is Status.FAIL, v.message()
    assert v.observed == pytest.approx(10_000.0)
    assert v.threshold == pytest.approx(4_000.0)
    msg = v.message()
    assert "above baseline x 2 = 4,000" in msg and "10,000 bytes per request" in msg
    assert "bot-a rx 1,000,000 + tx 1,500,000" in msg  # per-pod bytes as evidence


def test_starved_release_fails_below_baseline_over_factor() -> None:
    # answers cut short: 100 kB for 500 requests = 200 bytes per request < 1,000
    v = _judge(_window(_pod("bot-a", 60_000, 40_000)), 500)
    assert v.status is Status.FAIL, v.message()
    assert v.observed == pytest.approx(200.0)
    assert v.threshold == pytest.approx(1_000.0)
    assert "below baseline / 2 = 1,000" in v.message() and "200 bytes per request" in v.message()


def test_thin_window_is_inconclusive() -> None:
    v = _judge(_window(_pod("bot-a", 1e6, 1e6)), 12)
    assert v.status is Status.INCONCLUSIVE, v.message()
    assert "12 requests" in v.message() and "at least 200" in v.message()


def test_no_baseline_is_inconclusive_and_says_where_to_state_it() -> None:
    v = _judge(_window(_pod("bot-a", 1e6, 1e6)), 500, baseline=None)
    assert v.status is Status.INCONCLUSIVE
    assert "thresholds.network_bytes_per_request" in v.message() and "environments/" in v.message()


def test_empty_window_is_inconclusive() -> None:
    v = _judge(_window(), 500)
    assert v.status is Status.INCONCLUSIVE
    assert "no pod selected" in v.message()


def test_pod_without_statistics_is_error() -> None:
    note = "the kubelet's summary on node node-a has no network statistics for pod bot-b"
    v = _judge(_window(_pod("bot-a", 5e5, 5e5), PodDelta("bot-b", DeltaState.UNMEASURED, node="node-a", note=note)),
               500)
    assert v.status is Status.ERROR, v.message()
    assert note in v.message()


def test_counters_reset_is_error() -> None:
    note = "pod bot-a's counters went down inside the window"
    v = _judge(_window(_pod("bot-a", -4e5, 1e3, DeltaState.RESET, note)), 500)
    assert v.status is Status.ERROR, v.message()
    assert "went down" in v.message()


@pytest.mark.parametrize("state", [DeltaState.APPEARED, DeltaState.DISAPPEARED, DeltaState.STALE])
def test_selection_changed_inside_the_window_is_inconclusive(state: DeltaState) -> None:
    v = _judge(_window(_pod("bot-a", 5e5, 5e5), PodDelta("bot-c", state, note=f"pod bot-c {state}")), 500)
    assert v.status is Status.INCONCLUSIVE, v.message()
    assert f"pod bot-c {state}" in v.message()


@pytest.mark.parametrize("factor", [1.0, 0.5, math.nan, math.inf, -2.0, True])
def test_unusable_factor_is_error(factor: float) -> None:
    assert _judge(_window(_pod("bot-a", 5e5, 5e5)), 500, factor=factor).status is Status.ERROR


@pytest.mark.parametrize("baseline", [0.0, -1.0, math.nan, math.inf])
def test_unusable_baseline_is_error(baseline: float) -> None:
    v = _judge(_window(_pod("bot-a", 5e5, 5e5)), 500, baseline=baseline)
    assert v.status is Status.ERROR and "network_bytes_per_request" in v.message()


@pytest.mark.parametrize("requests", [math.nan, math.inf, -5, 2.5, "500", None])
def test_unusable_request_count_never_passes(requests: object) -> None:
    v = _judge(_window(_pod("bot-a", 5e5, 5e5)), requests)  # type: ignore[arg-type]
    assert v.status is Status.ERROR, v.message()


@pytest.mark.parametrize("rx", [math.nan, math.inf, -1.0, None])
def test_byte_counts_that_are_not_counts_never_pass(rx: float | None) -> None:
    v = _judge(_window(_pod("bot-a", rx, 5e5)), 500)  # type: ignore[arg-type]
    assert v.status is Status.ERROR, v.message()


def test_zero_requests_never_passes() -> None:
    assert _judge(_window(_pod("bot-a", 0, 0)), 0).status is Status.INCONCLUSIVE


def test_not_a_window_is_error() -> None:
    assert _judge({"pods": []}, 500).status is Status.ERROR  # type: ignore[arg-type]
