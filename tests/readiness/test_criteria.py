"""Fault and healthy cases of the §1.3 readiness and post-deploy criteria: every FAIL shows
its value and threshold, every PASS rests on evidence."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from goldgate.criteria import post_deploy, readiness
from goldgate.probes.readiness import AuditAction, AuditRun, ChannelAnswer, Notification, Shift
from goldgate.verdict import Status, Verdict

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


# ----------------------------------------------------------------------------- §5.3 statistics
def test_zero_errors_need_about_3000_requests_for_a_95_percent_bound_under_0_1_percent() -> None:
    needed = post_deploy.requests_needed(0, 0.001, 0.95)
    assert needed == math.ceil(math.log(0.05) / math.log(1 - 0.001)) == 2995
    assert post_deploy.clopper_pearson_upper(0, needed, 0.95) < 0.001 <= post_deploy.clopper_pearson_upper(
        0, needed - 1, 0.95)


def test_bounds_match_the_exact_binomial_tail() -> None:
    # 3 errors in 100 requests: the textbook one-sided 95 % Clopper-Pearson bounds.
    assert post_deploy.clopper_pearson_upper(3, 100, 0.95) == pytest.approx(0.0757, abs=5e-4)
    assert post_deploy.clopper_pearson_lower(3, 100, 0.95) == pytest.approx(0.00823, abs=5e-5)
    # the bound is where the tail equals alpha
    p = post_deploy.clopper_pearson_upper(3, 100, 0.95)
    tail = sum(math.comb(100, i) * p**i * (1 - p) ** (100 - i) for i in range(4))
    assert tail == pytest.approx(0.05, abs=1e-6)


def test_clean_window_with_enough_requests_passes() -> None:
    v = post_deploy.post_deploy_error_rate(3000, 0, limit=0.001)
    assert v.status is Status.PASS
    assert "0.09981 %" in v.reason


def test_clean_but_thin_window_is_inconclusive_and_says_how_many_are_needed() -> None:
    v = post_deploy.post_deploy_error_rate(400, 0, limit=0.001)
    assert v.status is Status.INCONCLUSIVE
    assert "2995 requests in all (2595 more)" in v.reason


def test_measured_breach_fails_with_value_and_threshold() -> None:
    v = post_deploy.post_deploy_error_rate(3000, 30, limit=0.001)
    assert v.status is Status.FAIL
    assert "observed 0.01 vs threshold 0.001" in v.message()


def test_rate_below_limit_but_not_proven_is_inconclusive_not_fail() -> None:
    v = post_deploy.post_deploy_error_rate(5000, 2, limit=0.001)
    assert v.status is Status.INCONCLUSIVE
    assert "6294 requests" in v.reason


def test_large_counts_decide_quickly() -> None:
    assert post_deploy.post_deploy_error_rate(10**7, 9000, limit=0.001).status is Status.PASS
    assert post_deploy.post_deploy_error_rate(10**7, 20000, limit=0.001).status is Status.FAIL


# ----------------------------------------------------------------------------- §3.2 window
PASSING = (Verdict.passed("error rate (§6.1)", 0.0, 0.01, "ok"), Verdict.passed("p95 latency budget", 0.02, 0.5, "ok"))


def test_full_window_with_passing_triggers_passes() -> None:
    v = post_deploy.migration_monitoring_window(10.2, 10.0, PASSING)
    assert v.status is Status.PASS and "watched 10.2 s (required 10 s)" in v.reason


def test_short_window_is_inconclusive_even_when_every_trigger_passed() -> None:
    v = post_deploy.migration_monitoring_window(3.0, 10.0, PASSING)
    assert v.status is Status.INCONCLUSIVE and "watched 3 s of the required 10 s" in v.reason


def test_breach_inside_the_window_fails() -> None:
    breach = Verdict.failed("error rate (§6.1)", 0.05, 0.01, "above", rollback=True)
    v = post_deploy.migration_monitoring_window(4.0, 10.0, (breach, PASSING[1]))
    assert v.status is Status.FAIL and "observed 4 s vs threshold 10 s" in v.message()
    assert "observed 0.05 vs threshold 0.01" in v.reason


# ----------------------------------------------------------------------------- §7.3 draining
def test_draining_lost_requests_fail() -> None:
    v = post_deploy.drained_while_terminating(120, 3, pods_deleted=1, min_requests=50)
    assert v.status is Status.FAIL and "observed 3 failed requests vs threshold 0 failed requests" in v.message()


def test_draining_without_losses_passes() -> None:
    assert post_deploy.drained_while_terminating(120, 0, pods_deleted=1, min_requests=50).status is Status.PASS


def test_shows_status_passes_only_on_the_expected_outcome() -> None:
    short = post_deploy.migration_monitoring_window(3.0, 10.0, PASSING)
    full = post_deploy.migration_monitoring_window(10.0, 10.0, PASSING)
    assert post_deploy.shows_status(short, Status.INCONCLUSIVE, criterion="c").status is Status.PASS
    failed = post_deploy.shows_status(full, Status.INCONCLUSIVE, criterion="c")
    assert failed.status is Status.FAIL and "observed PASS vs threshold INCONCLUSIVE" in failed.message()


# ----------------------------------------------------------------------------- §1.3
def test_channel_answer() -> None:
    assert readiness.channel_answers(ChannelAnswer("http://x/hook", 200, 0.01)).status is Status.PASS
    v = readiness.channel_answers(ChannelAnswer("http://x/hook", 503, 0.01))
    assert v.status is Status.FAIL and "observed 503 vs threshold HTTP 2xx/3xx" in v.message()


def test_notification_before_the_window() -> None:
    ok = readiness.notified_before_window([Notification("Stakeholders", "email", NOW - 18 * H)],
                                          audience="stakeholders", window_start=NOW)
    assert ok.status is Status.PASS
    late = readiness.notified_before_window([Notification("stakeholders", "email", NOW + H)],
                                            audience="stakeholders", window_start=NOW)
    assert late.status is Status.FAIL
    assert "observed 2026-12-01T13:00:00Z vs threshold sent before 2026-12-01T12:00:00Z" in late.message()
    other = readiness.notified_before_window([Notification("engineering", "chat", NOW - H)],
                                             audience="stakeholders", window_start=NOW)
    assert other.status is Status.FAIL and "no notification" in other.message()


def test_on_call_covers_the_window() -> None:
    shifts = [Shift("dana", "primary", NOW - H, NOW + 2 * H, True), Shift("emil", "primary", NOW + 2 * H, NOW + 5 * H,
                                                                          True)]
    assert readiness.on_call_covers_window(shifts, window_start=NOW, window_end=NOW + 4 * H).status is Status.PASS
    gap = [shifts[0], Shift("emil", "primary", NOW + 3 * H, NOW + 5 * H, True)]
    v = readiness.on_call_covers_window(gap, window_start=NOW, window_end=NOW + 4 * H)
    assert v.status is Status.FAIL
    assert "observed gap 2026-12-01T14:00:00Z .. 2026-12-01T15:00:00Z vs threshold" in v.message()
    unconfirmed = [Shift("dana", "primary", NOW - H, NOW + 5 * H, False)]
    v = readiness.on_call_covers_window(unconfirmed, window_start=NOW, window_end=NOW + 4 * H)
    assert v.status is Status.FAIL and "1 unconfirmed shifts not counted" in v.reason


def test_a_release_that_records_no_notification_or_schedule_is_error_not_fail() -> None:
    """Nothing recorded is nothing measured: ERROR naming the missing record, never FAIL."""
    v = readiness.notified_before_window([], audience="stakeholders", window_start=NOW)
    assert v.status is Status.ERROR and "records no notifications (field notifications)" in v.message()
    v = readiness.on_call_covers_window([], window_start=NOW, window_end=NOW + 4 * H)
    assert v.status is Status.ERROR and "records no on-call schedule (field on_call_schedule)" in v.message()


def _run(age: dt.timedelta, *, production: bool = False, action: str = "rollout undo", outcome: str = "done",
         reason: str = "") -> AuditRun:
    return AuditRun("r1", NOW - age, "production" if production else "staging", production, reason,
                    (AuditAction(action, outcome, ""),))


def test_recent_rehearsal_passes_and_old_one_fails() -> None:
    assert readiness.rollback_rehearsed([_run(6 * D)], now=NOW, max_age_days=30).status is Status.PASS
    v = readiness.rollback_rehearsed([_run(45 * D)], now=NOW, max_age_days=30)
    assert v.status is Status.FAIL and "observed 45 days vs threshold 30 days" in v.message()


def test_an_empty_trail_fails_naming_the_missing_rehearsal() -> None:
    v = readiness.rollback_rehearsed([], now=NOW, max_age_days=30)
    assert v.status is Status.FAIL and "no rollback rehearsal in the trail" in v.message()
    assert "observed no rehearsal vs threshold one within 30 days" in v.message()


def test_this_runs_completed_undo_counts_as_a_rehearsal() -> None:
    from goldgate.probes.readiness import this_run

    actions = [{"action": "rollout undo", "target": "deployment/trading-bot -n trading", "outcome": "done",
                "change": None, "reason": "error rate 3 % above 1 %"}]
    current = this_run(actions, environment="local", production=False, reason="", finished_at=NOW)
    assert readiness.rollback_rehearsed([current], now=NOW, max_age_days=30).status is Status.PASS
    idle = this_run([], environment="local", production=False, reason="", finished_at=NOW)
    v = readiness.rollback_rehearsed([idle], now=NOW, max_age_days=30)
    assert v.status is Status.FAIL and "no rollback rehearsal in the trail" in v.message()


def test_production_rollback_or_failed_undo_is_no_rehearsal() -> None:
    runs = [_run(D, production=True), _run(D, outcome="failed"), _run(D, action="scale")]
    v = readiness.rollback_rehearsed(runs, now=NOW, max_age_days=30)
    assert v.status is Status.FAIL and "observed no rehearsal vs threshold one within 30 days" in v.message()
    marked = readiness.rollback_rehearsed([_run(D, production=True, reason="Rollback rehearsal, game day")],
                                          now=NOW, max_age_days=30)
    assert marked.status is Status.PASS


def test_error_rate_from_a_metric_source_answer() -> None:
    from goldgate.probes.metrics import Measurement, RequestCounts

    clean = Measurement("scrape", "http_requests_total", counts=RequestCounts(3166, 0), window_s=31.0)
    assert post_deploy.post_deploy_error_rate_from(clean, limit=0.001).status is Status.PASS
    bad = Measurement("scrape", "http_requests_total", counts=RequestCounts(3001, 93), window_s=31.0)
    v = post_deploy.post_deploy_error_rate_from(bad, limit=0.001)
    assert v.status is Status.FAIL and "observed 0.0309897 vs threshold 0.001" in v.message()
    refused = Measurement("scrape", "http_requests_total", error="http://127.0.0.1:9/metrics: connection refused")
    v = post_deploy.post_deploy_error_rate_from(refused, limit=0.001)
    assert v.status is Status.ERROR and "127.0.0.1:9/metrics: connection refused" in v.reason
