"""Degenerate inputs of the §4.2 flag-server criteria: no flags, no features, no pods, no
evaluations, no kill switch exercised, unreadable pods, NaN / infinite / non-positive limits,
malformed splits. None of them may PASS."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from goldgate.probes.artifacts.changelog import ChangelogEntry
from goldgate.probes.feature_pods import KillSwitchRun, PodFeature
from goldgate.probes.flag_variants import VariantWindow
from goldgate.probes.flags import FlagUsage, ServerFlag

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
BAD_LIMIT = st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -1.0])
FLAG = ServerFlag("f", "kill-switch", False, NOW, True)
ENTRIES = st.sampled_from([None, ChangelogEntry("1.2.0", 1, None, {}),
                           ChangelogEntry("1.2.0", 1, None, {"Features": ["x (flag: `f`)"]})])
RUNS = st.sampled_from([
    KillSwitchRun("f", 0.0, {}, {}, (), {}, 0, True),
    KillSwitchRun("f", 1.0, {"p": ("u", 0)}, {"p": ("u", 0)}, (PodFeature("p", None, "down"),), {}, 1, True),
    KillSwitchRun("f", 1.0, {"p": ("u", 0)}, {"p": ("u", 0)}, (PodFeature("p", 0.0),), {}, 1, True),
    KillSwitchRun("f", 1.0, {"p": ("u", 0)}, {}, (PodFeature("p", 1.0),), {}, 1, False),
])


def _args(*values: object) -> tuple[tuple[object, ...], dict[str, object]]:
    return values, {}


CASES = {
    "flags.features_on_server": st.one_of(
        st.tuples(ENTRIES, st.just([]), st.just("CHANGELOG.md"), st.just("u")).map(lambda t: _args(*t)),
        st.just(_args(None, [FLAG], "CHANGELOG.md", "u")),
    ),
    "flags.server_flags_not_stale": st.one_of(
        st.just(_args([], NOW, 90.0, "u")),
        st.tuples(BAD_LIMIT).map(lambda t: _args([FLAG], NOW, t[0], "u")),
        st.just(_args([ServerFlag("f", "kill-switch", True, NOW, True)], NOW, 90.0, "u")),
        st.just(_args([ServerFlag("f", "kill-switch", False, None, True)], NOW, 90.0, "u")),
    ),
    "flags.usage_tracked": st.one_of(
        st.just(_args({}, [], [], "trading-bot", "u")),
        st.just(_args({"f": FlagUsage("f", 0, 0, ())}, ["p"], ["p"], "trading-bot", "u")),
        st.just(_args({"f": FlagUsage("f", 5, 0, ("trading-bot",))}, [], [], "trading-bot", "u")),
    ),
    "flags.kill_switch_obeyed": st.one_of(
        st.tuples(RUNS, st.floats(0.1, 10)).map(lambda t: _args(*t)),
        st.tuples(RUNS, BAD_LIMIT).map(lambda t: _args(*t)),
    ),
    "flags.kill_switches_obeyed": st.one_of(
        st.just(_args([], 5.0, "u")),
        st.tuples(RUNS, BAD_LIMIT).map(lambda t: _args([t[0]], t[1], "u")),
    ),
    "flags.variant_split_matches": st.one_of(
        st.just(_args({}, {}, 0.99, 100, "f")),
        st.just(_args({"A": 0, "B": 0}, {"A": 500, "B": 500}, 0.99, 100, "f")),
        st.just(_args({"A": 5}, {"A": 1000}, 0.99, 100, "f")),
        st.just(_args({"A": -5, "B": 500}, {"A": 500, "B": 500}, 0.99, 10, "f")),
        st.just(_args({"A": 500, "C": 500}, {"A": 500, "B": 500}, 0.99, 10, "f")),
        st.tuples(st.sampled_from([float("nan"), 0.0, 1.0, 2.0])).map(
            lambda t: _args({"A": 500, "B": 500}, {"A": 500, "B": 500}, t[0], 10, "f")),
    ),
    "flags.variant_splits_match": st.one_of(
        st.just(_args([], {}, 0.99, 100, "u")),
        st.just(_args([VariantWindow("f", 10.0, {})], {"f": {"A": 500, "B": 500}}, 0.99, 100, "u")),
        st.just(_args([VariantWindow("f", 10.0, {"A": 60, "B": 60})], {}, 0.99, 100, "u")),
        st.just(_args([VariantWindow("f", 10.0, {"A": 3, "B": 2})], {"f": {"A": 500, "B": 500}}, 0.99, 100, "u")),
        st.tuples(st.sampled_from([float("nan"), float("inf"), 0.0, 1.0])).map(
            lambda t: _args([VariantWindow("f", 10.0, {"A": 500, "B": 500})], {"f": {"A": 500, "B": 500}}, t[0],
                            10, "u")),
    ),
}
