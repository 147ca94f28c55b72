"""The §4.2 server checks against the real Unleash server: the release's flags as seeded,
a stale marker set on the server FAILs naming the flag, a feature whose flag the server
lacks FAILs, a refused admin token is an ERROR naming the call, never a PASS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from goldgate.criteria.flags import features_on_server, server_flags_not_stale, usage_tracked
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes.artifacts.changelog import ChangelogEntry
from goldgate.probes.flags import FlagServerError, read_usage
from goldgate.verdict import Status
from tests.flags.conftest import Unleash

NOW = dt.datetime.now(dt.UTC)


def _entry(*features: str) -> ChangelogEntry:
    return ChangelogEntry("1.2.0", 5, "2026-11-20", {"Features": list(features)})


def test_release_features_have_flags_on_the_server(unleash: Unleash) -> None:
    flags = unleash.admin().flags()
    assert {f.name for f in flags} == {"order_idempotency", "adaptive_stop_loss", "signal_model_ab"}
    ok = features_on_server(_entry("Idempotent orders (flag: `order_idempotency`)."), flags, "CHANGELOG.md",
                            unleash.plan.url)
    assert ok.status is Status.PASS, ok.reason
    missing = features_on_server(_entry("Trailing stops (flag: `trailing_stop`)."), flags, "CHANGELOG.md",
                                 unleash.plan.url)
    assert missing.status is Status.FAIL and "no flag trailing_stop" in missing.reason


def test_stale_flag_on_the_server_fails_naming_it(unleash: Unleash) -> None:
    admin = unleash.admin()
    assert server_flags_not_stale(admin.flags(), NOW, 90, unleash.plan.url).status is Status.PASS
    admin.request("POST", "/api/admin/projects/default/stale", {"features": ["adaptive_stop_loss"], "stale": True},
                  retry=False)
    try:
        verdict = server_flags_not_stale(admin.flags(), NOW, 90, unleash.plan.url)
    finally:
        admin.request("POST", "/api/admin/projects/default/stale",
                      {"features": ["adaptive_stop_loss"], "stale": False}, retry=False)
    assert verdict.status is Status.FAIL
    assert "adaptive_stop_loss: marked stale on the server" in verdict.reason
    aged = server_flags_not_stale(admin.flags(), NOW + dt.timedelta(days=120), 90, unleash.plan.url)
    assert aged.status is Status.FAIL and "days old > 90" in aged.reason


def test_usage_is_read_from_the_servers_client_metrics(unleash: Unleash, start_bot: Callable[..., str]) -> None:
    host = "trading-bot-usage"  # the bot reports its HOSTNAME (a pod's name) as its instance id
    start_bot(HOSTNAME=host, **unleash.bot_env())
    admin = unleash.admin()
    names = ["order_idempotency", "adaptive_stop_loss"]
    usages, instances = read_usage(admin, names, "trading-bot", [host], wait_s=30, poll_s=0.5)
    verdict = usage_tracked(usages, instances, [host], "trading-bot", unleash.plan.url)
    assert verdict.status is Status.PASS, verdict.reason
    silent = usage_tracked(usages, instances, [host, "trading-bot-gone"], "trading-bot", unleash.plan.url)
    assert silent.status is Status.FAIL and "trading-bot-gone" in silent.reason


def test_refused_token_is_an_error_naming_the_call(unleash: Unleash) -> None:
    from goldgate.probes.flags import UnleashAdmin

    wrong = UnleashAdmin(unleash.plan.url, "*:*.not-the-token", environment="development", retries=0)
    with pytest.raises(FlagServerError, match=r"GET /api/admin/projects/default/features: HTTP 401"):
        wrong.flags()
    verdict = measure_and_judge("no feature flag on the flag server is stale", wrong.flags,
                                lambda fl: server_flags_not_stale(fl, NOW, 90, "x"), (FlagServerError,))
    assert verdict.status is Status.ERROR and "not-the-token" not in verdict.reason
