"""The kill switch exercised for real: goldgate turns the flag off on the Unleash server, the
bot's Unleash client (1 s refresh) stops the feature, the flag goes back on. A bot that
ignores flag changes (FAULT_IGNORE_FLAGS) FAILs naming the flag."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from goldgate.actions.flags import exercise_kill_switch
from goldgate.criteria.flags import kill_switch_obeyed, kill_switches_obeyed
from goldgate.probes.feature_pods import FeaturePods
from goldgate.probes.metrics import ScrapeSource, StaticTargets, Target
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Status
from tests.flags.conftest import StubPods, Unleash

FLAG = "order_idempotency"
LIMIT_S = 5.0


def _pods(url: str, name: str) -> FeaturePods:
    scrape = ScrapeSource(StaticTargets([Target(url + "/metrics", {"pod": name, "app": "trading-bot"})]), retries=0)
    return FeaturePods(scrape, StubPods({name: (f"uid-{name}", 0)}), "trading", "app=trading-bot",
                       "bot_feature_enabled")


def _wait_until_clients_see_the_flag_on(unleash: Unleash) -> None:
    """The server's client API serves FLAG on. After the previous test turned it back on, the
    server can still hand a new client the cached "off" for a moment, and a bot that ignores
    changes would keep that first value: the switch would then look obeyed."""
    import time

    env = unleash.bot_env()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = requests.get(env["UNLEASH_URL"] + "/client/features",
                            headers={"Authorization": env["UNLEASH_API_TOKEN"]}, timeout=2).json()
        if any(f.get("name") == FLAG and f.get("enabled") for f in body.get("features", [])):
            return
        time.sleep(0.2)
    pytest.fail(f"the flag server's client API never served {FLAG} on")


def _read_the_flag_on(url: str, seconds: float = 20) -> tuple[bool, object]:
    """Whether the bot's client fetched the server's flags (its /flags says so) with FLAG on
    within ``seconds``, and its last /flags answer. On success the feature gauge is given a
    second to catch up (it is refreshed twice a second)."""
    import time

    last: object = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        last = body = requests.get(url + "/flags", timeout=2).json()
        if body["source"] == "unleash" and body["flags"].get("adaptive_stop_loss") and body["flags"].get(FLAG):
            time.sleep(1.0)
            return True, last
        time.sleep(0.2)
    return False, last


def _wait_from_server(url: str) -> None:
    if not _read_the_flag_on(url)[0]:
        pytest.fail("the bot never read the server's flags")


def test_healthy_bot_obeys_the_kill_switch(unleash: Unleash, start_bot: Callable[..., str]) -> None:
    url = start_bot(**unleash.bot_env())
    _wait_from_server(url)
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    run = exercise_kill_switch(unleash.admin(), safety, _pods(url, "bot-a"), FLAG, watch_s=LIMIT_S + 1)
    verdict = kill_switch_obeyed(run, LIMIT_S)
    assert verdict.status is Status.PASS, verdict.reason
    assert run.restored and unleash.admin().flag(FLAG).enabled is True
    assert [a["action"] for a in safety.actions] == ["feature flag off", "feature flag on"]
    assert kill_switches_obeyed([run], LIMIT_S, "unleash").status is Status.PASS


def _ignoring_bot_with_the_flag_on(unleash: Unleash, start_bot: Callable[..., str], attempts: int = 3) -> str:
    """A bot that ignores flag changes, whose first read had FLAG on.

    Such a bot keeps the first value it reads for good. In two CI runs that first value was
    not the server's current "on" (once it looked obeyed, once it never showed FLAG on in
    20 s; the cause is not proven). A bot whose first read was not "on" cannot show an
    ignored switch, so a new one is started, at most ``attempts`` times, and the last
    /flags answer is named if none reads it."""
    last: object = None
    for _ in range(attempts):
        _wait_until_clients_see_the_flag_on(unleash)
        url = start_bot(FAULT_IGNORE_FLAGS="true", **unleash.bot_env())
        read, last = _read_the_flag_on(url)
        if read:
            return url
    pytest.fail(f"no bot ignoring flag changes read {FLAG} on in {attempts} starts; last /flags: {last}")


def test_ignored_kill_switch_fails_naming_the_flag(unleash: Unleash, start_bot: Callable[..., str]) -> None:
    url = _ignoring_bot_with_the_flag_on(unleash, start_bot)
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    run = exercise_kill_switch(unleash.admin(), safety, _pods(url, "bot-b"), FLAG, watch_s=LIMIT_S + 1)
    verdict = kill_switch_obeyed(run, LIMIT_S)
    assert verdict.status is Status.FAIL
    assert f"flag {FLAG} off, still on after {LIMIT_S:g}s in bot-b" in verdict.reason
    assert verdict.observed == "never" and "5s" in str(verdict.threshold)
    assert unleash.admin().flag(FLAG).enabled is True  # turned back on


def test_kill_switch_needs_allow_mutations(unleash: Unleash) -> None:
    from goldgate.safety import MutationRefused

    pods = FeaturePods(ScrapeSource(StaticTargets([])), StubPods({}), "trading", "app=x", "bot_feature_enabled")
    with pytest.raises(MutationRefused):
        exercise_kill_switch(unleash.admin(), SafetyPolicy("local", production=False, allow_mutations=False), pods, FLAG,
                             watch_s=1)
    assert unleash.admin().flag(FLAG).enabled is True
