"""Degenerate inputs of the kill-switch verification: no pod halted, unreadable records,
unreachable kill switches, negative counts - none may PASS."""

from __future__ import annotations

from hypothesis import strategies as st

from goldgate.verdict import Status, Verdict

PODS = st.text("abc", min_size=1, max_size=3)

CASES = {
    "trading_rollout.halt_verified": st.one_of(
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
    "trading_rollout.halted_before_rollback": st.one_of(
        st.just((([],), {})),
        st.lists(st.sampled_from([("scale", "done"), ("delete deployment", "done"), ("halt trading", "failed"),
                                  ("rollout undo", "done")]), max_size=4).map(lambda a: ((a,), {})),
        st.just((([("set route weights", "done"), ("halt trading", "done"), ("delete deployment", "done")],), {})),
        st.just((([("halt trading", "done")],), {})),
        st.just((([("halt trading",), None, 3],), {})),
    ),
    "trading_rollout.trading_judged_per_phase": st.one_of(
        st.just((([],), {})),
        st.just((([{"weight": 10}],), {})),
        st.just((([{"weight": 10, "trading": {"last": {"verdicts": {}}}}],), {})),
        st.just((([{"weight": 10, "trading": {"last": {"verdicts": {"P&L drawdown": {"status": "PASS"}}}}}],), {})),
        st.sampled_from(["INCONCLUSIVE", "ERROR", None, "FAIL"]).map(lambda s: (([{"weight": 10, "trading": {
            "last": {"verdicts": {"signal agreement": {"status": s}}}}}],), {})),
    ),
    "trading_rollout.closed_market_held": st.one_of(
        st.just((([],), {"outcome": "HOLD", "market": "market"})),
        st.sampled_from([Status.PASS, Status.FAIL, Status.ERROR, Status.INCONCLUSIVE]).map(lambda s: (([Verdict(
            "market", s, 1.0 if s is Status.PASS else None, 20, "too few bars: canary 3")],),
            {"outcome": "HOLD", "market": "market"})),
        st.just((([Verdict("market", Status.INCONCLUSIVE, None, 20, "market closed")],),
                 {"outcome": "PASS", "market": "market"})),
    ),
}
