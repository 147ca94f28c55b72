"""The fault matrix: every named release fault turns exactly its checks red, each with a
message naming what and where; the healthy reference passes every check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from goldgate.sandbox import release
from goldgate.sandbox.release_faults import RELEASE_FAULTS
from goldgate.verdict import Status
from tests.checklist.harness import run_checks

pytestmark = pytest.mark.slow


def test_healthy_release_passes_every_check(healthy: release.Workspace, now: dt.datetime) -> None:
    verdicts = run_checks(healthy, now)
    bad = {k: v.message() for k, v in verdicts.items() if v.status is not Status.PASS}
    assert not bad
    assert len(verdicts) == 32


#: A word (path, value or name) the FAIL message must contain for each fault.
NAMED = {
    "failing-test": "test_fill_price_crosses_the_spread",
    "coverage-70": "70",
    "critical-sarif": "fingerprint.py",
    "planted-secret": "trading_bot/broker.py:4",
    "unpinned-dependency": "requirements.lock:3 'numpy>=2.1'",
    "missing-changelog-entry": "CHANGELOG.md",
    "changelog-missing-section": "Migration Guide",
    "missing-release-notes": "RELEASE_NOTES.md",
    "migration-without-downgrade": "b2d4f6a80002",
    "non-reversible-migration": "orders.client_order_id left behind",
    "two-migration-heads": "2 heads",
    "breaking-migration": "price",
    "undescriptive-migration-name": "'update'",
    "migration-not-prepared": "d4f6b8c00004",
    "stale-backup": "2.0 h old",
    "corrupt-backup": "orders-full-",
    "pitr-off": "archive_mode = off",
    "pitr-short-retention": "3 days",
    "expired-certificate": "expired",
    "expiring-certificate": "5 days left",
    "wrong-hostname-certificate": "Hostname mismatch",
    "drifted-staging": "limits.memory",
    "untested-alert-rule": "TradingBotOrderBacklog",
    "failing-alert-test": "FAILED",
    "one-approval": "1 independent approval",
    "self-approval": "author's own approval",
    "window-closed": "opens in",
    "no-change-ticket": "change_ticket (missing) does not match",
    "manifest-version-mismatch": "version v1.1.9 is not v1.2.0",
    "no-on-call": "on_call.primary",
    "missing-runbook-section": "rollback.md: section 'Verification' missing",
    "missing-runbook": "on-call.md missing",
    "config-out-of-range": "risk.risk_per_trade",
    "config-dependency-broken": "max_daily_loss = 0.15",
    "config-literal-secret": "http.api_token",
    "feature-without-flag": "adaptive_stop_loss",
    "stale-flag": "order_idempotency",
}


def test_every_fault_has_an_expected_message() -> None:
    assert set(NAMED) == set(RELEASE_FAULTS)


@pytest.mark.parametrize("fault", sorted(RELEASE_FAULTS))
def test_fault_turns_exactly_its_checks_red(fault: str, build_release: Callable[..., release.Workspace],
                                            now: dt.datetime) -> None:
    ws = build_release(fault)
    verdicts = run_checks(ws, now)
    failed = {k for k, v in verdicts.items() if v.status is Status.FAIL}
    others = {k: v.message() for k, v in verdicts.items() if v.status not in (Status.PASS, Status.FAIL)}
    assert not others, others
    assert failed == set(RELEASE_FAULTS[fault].checks), {k: verdicts[k].message() for k in failed}
    messages = " | ".join(verdicts[k].message() for k in failed)
    assert NAMED[fault] in messages
    for k in failed:
        v = verdicts[k]
        assert v.observed is not None and v.threshold is not None, v.message()
