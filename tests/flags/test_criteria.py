"""The §4.2 criteria on hand-made measurements: each FAILs with value and threshold,
PASSes on enough healthy evidence, and says INCONCLUSIVE or ERROR on too little."""

from __future__ import annotations

import datetime as dt

from goldgate.criteria.flags import (
    kill_switch_obeyed,
    kill_switches_obeyed,
    usage_tracked,
    variant_split_matches,
    variant_splits_match,
)
from goldgate.probes.feature_pods import KillSwitchRun, PodFeature
from goldgate.probes.flag_variants import VariantWindow
from goldgate.probes.flags import FlagUsage
from goldgate.verdict import Status

IDS = {"pod-a": ("uid-a", 0), "pod-b": ("uid-b", 1)}


def _run(off: dict[str, float], after: dict[str, tuple[str, int]] | None = None, restored: bool = True,
         values: tuple[float | None, ...] = (1.0, 1.0)) -> KillSwitchRun:
    on = tuple(PodFeature(p, v, "" if v is not None else "unreadable") for p, v in zip(IDS, values, strict=True))
    return KillSwitchRun("order_idempotency", 3.0, dict(IDS), dict(after or IDS), on, off, 6, restored)


def test_kill_switch_verdicts() -> None:
    assert kill_switch_obeyed(_run({"pod-a": 1.2, "pod-b": 2.0}), 5).status is Status.PASS
    late = kill_switch_obeyed(_run({"pod-a": 1.2}), 5)
    assert late.status is Status.FAIL and "pod-b" in late.reason and late.observed == "never"
    restarted = kill_switch_obeyed(_run({"pod-a": 1, "pod-b": 1}, {"pod-a": ("uid-a", 1), "pod-b": ("uid-b", 1)}), 5)
    assert restarted.status is Status.FAIL and "pods restarted: pod-a" in restarted.reason
    replaced = kill_switch_obeyed(_run({"pod-a": 1, "pod-b": 1}, {"pod-a": ("uid-z", 0), "pod-b": ("uid-b", 1)}), 5)
    assert replaced.status is Status.FAIL and "pods replaced: pod-a" in replaced.reason
    assert kill_switch_obeyed(_run({"pod-a": 1, "pod-b": 1}, restored=False), 5).status is Status.FAIL
    assert kill_switch_obeyed(_run({}, values=(0.0, 0.0)), 5).status is Status.INCONCLUSIVE
    assert kill_switch_obeyed(_run({}, values=(None, None)), 5).status is Status.ERROR
    assert kill_switches_obeyed([], 5, "u").status is Status.INCONCLUSIVE
    both = kill_switches_obeyed([_run({"pod-a": 1, "pod-b": 1}), _run({"pod-a": 1})], 5, "u")
    assert both.status is Status.FAIL


def test_usage_verdicts() -> None:
    used = {"f": FlagUsage("f", 40, 2, ("trading-bot",))}
    assert usage_tracked(used, ["pod-a"], ["pod-a"], "trading-bot", "u").status is Status.PASS
    unused = usage_tracked({"f": FlagUsage("f", 0, 0, ())}, ["pod-a"], ["pod-a"], "trading-bot", "u")
    assert unused.status is Status.FAIL and "f: 0 evaluations" in unused.reason
    other = usage_tracked({"f": FlagUsage("f", 3, 0, ("other-app",))}, ["pod-a"], ["pod-a"], "trading-bot", "u")
    assert other.status is Status.FAIL and "not evaluated by trading-bot" in other.reason
    assert usage_tracked(used, [], [], "trading-bot", "u").status is Status.INCONCLUSIVE


def test_variant_split_within_and_outside_its_bound() -> None:
    weights = {"A": 500, "B": 500}
    ok = variant_split_matches({"A": 510, "B": 490}, weights, 0.99, 100, "ab")
    assert ok.status is Status.PASS, ok.reason
    skewed = variant_split_matches({"A": 700, "B": 300}, weights, 0.99, 100, "ab")
    assert skewed.status is Status.FAIL and "A: 70.0% vs 50.0%" in skewed.reason
    assert skewed.threshold == {"A": 0.5, "B": 0.5}
    assert variant_split_matches({"A": 5, "B": 4}, weights, 0.99, 100, "ab").status is Status.INCONCLUSIVE
    uneven = variant_split_matches({"A": 180, "B": 820}, {"A": 200, "B": 800}, 0.99, 100, "ab")
    assert uneven.status is Status.PASS


def test_age_is_measured_from_the_servers_creation_time() -> None:
    from goldgate.criteria.flags import server_flags_not_stale
    from goldgate.probes.flags import ServerFlag

    now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    young = ServerFlag("f", "kill-switch", False, now - dt.timedelta(days=10), True)
    old = ServerFlag("g", "kill-switch", False, now - dt.timedelta(days=100), True)
    assert server_flags_not_stale([young], now, 90, "u").status is Status.PASS
    verdict = server_flags_not_stale([young, old], now, 90, "u")
    assert verdict.status is Status.FAIL and "g: 100 days old > 90" in verdict.reason


def test_every_ab_flag_judged_the_worst_split_decides() -> None:
    weights = {"ab": {"A": 500, "B": 500}, "cd": {"C": 800, "D": 200}}
    fine = VariantWindow("ab", 15.0, {"A": 150, "B": 148}, ("p1",))
    skewed = VariantWindow("cd", 15.0, {"C": 150, "D": 150}, ("p1",))
    ok = variant_splits_match([fine], weights, 0.99, 100, "unleash")
    assert ok.status is Status.PASS and ok.observed == {"ab": {"A": 0.5034, "B": 0.4966}}
    bad = variant_splits_match([fine, skewed], weights, 0.99, 100, "unleash")
    assert bad.status is Status.FAIL and "C: 50.0% vs 80.0% +-" in bad.reason
    assert bad.threshold == {"C": 0.8, "D": 0.2}
    none = variant_splits_match([], weights, 0.99, 100, "unleash")
    assert none.status is Status.INCONCLUSIVE and "no A/B flag" in none.reason
