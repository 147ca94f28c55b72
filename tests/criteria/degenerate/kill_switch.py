"""Degenerate inputs of the kill-switch verification: no pod halted, unreadable records,
unreachable kill switches, negative counts - none may PASS."""

from __future__ import annotations

from hypothesis import strategies as st

PODS = st.text("abc", min_size=1, max_size=3)

CASES = {
    "kill_switch.halt_verified": st.one_of(
        st.just((({}, {}), {})),
        st.dictionaries(PODS, st.just(True), min_size=1, max_size=3).map(
            lambda h: ((h, {p: ["?: refused"] for p in h}), {})),
        st.dictionaries(PODS, st.just(True), min_size=1, max_size=3).map(
            lambda h: ((h, {}), {"unreachable": {p: "timeout" for p in h}})),
        st.dictionaries(PODS, st.just(True), min_size=1, max_size=3).map(
            lambda h: ((h, {}), {"cancelled": -1})),
        st.dictionaries(PODS, st.booleans(), min_size=1, max_size=3).map(
            lambda h: ((h, {p: ["o-1"] for p in h}), {})),
    ),
}
