"""A verdict's value is the fact that decided, and a scaled guide duration says so."""

from __future__ import annotations

from pathlib import Path

from goldgate.config import load_environment
from goldgate.criteria import post_deploy, recovery
from goldgate.criteria import rollout as judge
from goldgate.durations import duration_text, guide_seconds, scaled_note
from goldgate.probes.database import RestoreResult
from goldgate.verdict import Status, Verdict

ROOT = Path(__file__).resolve().parents[2]


def test_a_stall_is_valued_by_progress_deadline_exceeded_and_its_age() -> None:
    # every wanted pod Ready (old ones still serving) and yet stalled: the count proves nothing
    v = judge.rollout_progress("trading-bot", ready=3, want=3, waited_s=31.0, deadline_s=60.0,
                               deadline_exceeded=True, condition="ReplicaSet has timed out progressing",
                               condition_age_s=12.4)
    assert v.status is Status.FAIL and v.rollback
    assert v.observed == "ProgressDeadlineExceeded (for 12.4s)"
    assert "observed ProgressDeadlineExceeded (for 12.4s) vs threshold progressing within the deadline" in v.message()
    assert "3 of 3 pods Ready" in v.reason  # the count stays in the text, as context
    unknown = judge.rollout_progress("d", ready=1, want=3, waited_s=5.0, deadline_s=60.0, deadline_exceeded=True)
    assert unknown.observed == "ProgressDeadlineExceeded (age unknown)"


def test_the_guide_durations_come_from_the_schema_defaults() -> None:
    assert guide_seconds("strategy.canary_phase_s") == 1800
    assert guide_seconds("strategy.monitoring_window_s") == 7200
    assert guide_seconds("strategy.migration_monitor_s") == 3600
    assert guide_seconds("recovery.rto_s") == 900
    assert guide_seconds("strategy.no_such_field") is None
    assert [duration_text(x) for x in (12, 1800, 7200, 90.5)] == ["12 s", "30 min", "2 h", "90.5 s"]


def test_local_says_it_scaled_production_keeps_the_guides() -> None:
    local = load_environment("local", ROOT / "environments")
    production = load_environment("production", ROOT / "environments")
    note = scaled_note(local, "strategy.canary_phase_s")
    assert note == (f"phase {duration_text(local.strategy.canary_phase_s)} (guide: 30 min; "
                    "scaled by environment local)")
    assert scaled_note(production, "strategy.canary_phase_s") == "phase 30 min"
    assert scaled_note(production, "strategy.monitoring_window_s") == "watch 2 h"
    assert scaled_note(production, "recovery.rto_s") == "RTO 15 min"
    assert "guide: 1 h" in scaled_note(local, "strategy.migration_monitor_s", 5)


def test_verdicts_over_a_scaled_duration_show_both() -> None:
    note = "phase 12 s (guide: 30 min; scaled by environment local)"
    v = judge.canary_phases([10, 50, 100], [10, 50, 100], phase_s=12, outcome="promoted", reason="", trigger=None,
                            scaled=note)
    assert v.status is Status.PASS and note in v.reason and any(e.source == "duration" for e in v.evidence)
    rto = recovery.restore_within_rto(RestoreResult("b.dump", "scratch", True, 2.0, {"orders": 1}), 9.0,
                                      "RTO 9 s (guide: 15 min; scaled by environment local)")
    assert rto.status is Status.PASS and "guide: 15 min" in rto.message()
    watched = post_deploy.migration_monitoring_window(
        12.0, 10.0, [Verdict.passed("error rate", 0.0, 0.01)],
        scaled="post-migration window 10 s (guide: 1 h; scaled by environment local)")
    assert watched.status is Status.PASS and "guide: 1 h" in watched.reason
    recorded = judge.recorded_verdict("error rate", [Verdict.passed("error rate (§6.1)", 0.0, 0.01)], why="",
                                      by_prefix=True, scaled="watch 20 s (guide: 2 h; scaled by environment local)")
    assert "guide: 2 h" in recorded.message()
