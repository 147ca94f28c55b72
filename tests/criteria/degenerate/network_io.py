"""Degenerate inputs of the §8.3 network I/O criterion.

No pods, no requests, pods without statistics or with reset counters, byte counts and
request counts that are NaN, infinite, negative or not numbers, a missing or unusable
baseline, a factor that is no factor, a window that is no window: none may PASS.
"""

from __future__ import annotations

from hypothesis import strategies as st

from goldgate.probes.pod_network import DeltaState, NetworkDeltas, PodDelta

NAMES = st.text("abc", min_size=1, max_size=3)
BYTES = st.floats(0, 1e9)
NOT_A_COUNT = st.sampled_from([None, float("nan"), float("inf"), float("-inf"), -1.0])
NOT_A_NUMBER = st.sampled_from([None, float("nan"), float("inf"), float("-inf"), -1.0, 0.0, "1e3", True])
GOOD_POD = st.builds(PodDelta, pod=NAMES, state=st.just(DeltaState.MEASURED), rx_bytes=BYTES, tx_bytes=BYTES)
BAD_POD = st.one_of(
    st.builds(PodDelta, pod=NAMES, state=st.sampled_from([s for s in DeltaState if s is not DeltaState.MEASURED]),
              rx_bytes=st.one_of(st.none(), BYTES), tx_bytes=st.one_of(st.none(), BYTES)),
    st.builds(PodDelta, pod=NAMES, state=st.just(DeltaState.MEASURED), rx_bytes=NOT_A_COUNT, tx_bytes=BYTES),
    st.builds(PodDelta, pod=NAMES, state=st.just(DeltaState.MEASURED), rx_bytes=BYTES, tx_bytes=NOT_A_COUNT),
)


def _window(pods: list[PodDelta], elapsed: float = 30.0) -> NetworkDeltas:
    return NetworkDeltas("ns", "app=bot", tuple(pods), elapsed)


KW = {"baseline_bytes_per_request": 2000.0, "factor": 2.0, "min_requests": 50}


def _cases() -> st.SearchStrategy:
    # no pods at all, whatever the traffic
    empty = st.integers(0, 10_000).map(lambda n: ((_window([]), n), dict(KW)))
    # at least one pod whose bytes are unknown or not a count
    bad_pods = st.tuples(st.lists(GOOD_POD, max_size=3), st.lists(BAD_POD, min_size=1, max_size=2),
                         st.integers(50, 10_000)).map(lambda a: ((_window(a[0] + a[1]), a[2]), dict(KW)))
    # too few requests (zero included) or a request count that is no count
    thin = st.tuples(st.lists(GOOD_POD, min_size=1, max_size=3),
                     st.one_of(st.integers(0, 49), NOT_A_NUMBER)).map(lambda a: ((_window(a[0]), a[1]), dict(KW)))
    # no baseline, or a baseline / factor / minimum that is not usable
    bad_numbers = st.tuples(st.lists(GOOD_POD, min_size=1, max_size=3), st.integers(50, 10_000)).flatmap(
        lambda a: st.one_of(
            NOT_A_NUMBER.map(lambda b: ((_window(a[0]), a[1]), {**KW, "baseline_bytes_per_request": b})),
            st.one_of(NOT_A_NUMBER, st.just(1.0), st.just(0.5)).map(
                lambda f: ((_window(a[0]), a[1]), {**KW, "factor": f})),
            st.sampled_from([0, -1, None, 2.5]).map(lambda m: ((_window(a[0]), a[1]), {**KW, "min_requests": m}))))
    # a window of no length, or something that is not a window
    bad_window = st.one_of(
        st.tuples(st.lists(GOOD_POD, min_size=1, max_size=3), NOT_A_NUMBER).map(
            lambda a: ((_window(a[0], a[1]), 500), dict(KW))),
        st.sampled_from([None, {}, [], "window"]).map(lambda w: ((w, 500), dict(KW))))
    return st.one_of(empty, bad_pods, thin, bad_numbers, bad_window)


CASES = {"network_io.network_io_per_request": _cases()}
