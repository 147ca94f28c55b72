"""The A/B split measured for real: the sandbox's Unleash holds signal_model_ab at the split
the release declares (flags.yaml, 50/50), the bot asks its Unleash client for a variant per
signal request and counts the answers on /metrics, goldgate reads the counts over a window
of signal requests. A bot that ignores the split (FAULT_VARIANT_SKEW: always variant A)
FAILs naming the variant, its share, the configured split and the bound."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from goldgate.criteria.flags import variant_splits_match
from goldgate.probes.flag_variants import VariantCounts
from goldgate.probes.metrics import ScrapeSource, StaticTargets, Target
from goldgate.rollout.traffic import TrafficStream
from goldgate.verdict import Status
from tests.flags.conftest import Unleash

FLAG = "signal_model_ab"
METRIC = "bot_flag_variant_requests_total"
CONFIDENCE = 0.99
#: A healthy split falls outside a 99 % bound in about 1 run of 200 by design (one CI run saw
#: A 96 of 241, 39.8 % against 50 % +- 9.0 %; 200 windows of 241 uuid4 session ids through
#: Unleash's own evaluator put 1 outside). The healthy run is judged at a bound it leaves
#: about once in 100,000 runs; the ignored split (100 % A) fails at either.
HEALTHY_CONFIDENCE = 0.99999
MIN_SAMPLES = 100


def _window(url: str, pod: str, window_s: float = 4.0, rate_rps: float = 60.0) -> list:
    scrape = ScrapeSource(StaticTargets([Target(url + "/metrics", {"pod": pod, "app": "trading-bot"})]), retries=0)
    counter = VariantCounts(scrape, "trading", "app=trading-bot", METRIC)
    with TrafficStream(url, rate_rps=rate_rps, max_duration_s=window_s + 2, workers=4):
        return counter.over_window([FLAG], window_s)


def _wait_from_server(url: str) -> None:
    """The bot's client answers from the server (variant B exists only there)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if requests.get(url + "/flags", timeout=2).json()["source"] == "unleash":
            return
        time.sleep(0.2)
    pytest.fail("the bot never read the server's flags")


def test_server_holds_the_declared_split(unleash: Unleash) -> None:
    flag = unleash.admin().flag(FLAG)
    assert flag.type == "experiment" and flag.enabled is True
    assert {v.name: v.weight for v in flag.variants} == {"A": 500, "B": 500}


def test_healthy_bot_splits_requests_as_configured(unleash: Unleash, start_bot: Callable[..., str]) -> None:
    url = start_bot(**unleash.bot_env())
    _wait_from_server(url)
    weights = {FLAG: {v.name: v.weight for v in unleash.admin().flag(FLAG).variants}}
    windows = _window(url, "bot-ab")
    verdict = variant_splits_match(windows, weights, HEALTHY_CONFIDENCE, MIN_SAMPLES, unleash.plan.url)
    assert verdict.status is Status.PASS, verdict.reason
    assert set(windows[0].counts) == {"A", "B"} and windows[0].pods == ("bot-ab",)
    thin = variant_splits_match(windows, weights, CONFIDENCE, 10 * sum(windows[0].counts.values()), unleash.plan.url)
    assert thin.status is Status.INCONCLUSIVE


def test_bot_ignoring_the_split_fails_naming_the_variant(unleash: Unleash, start_bot: Callable[..., str]) -> None:
    url = start_bot(FAULT_VARIANT_SKEW="true", **unleash.bot_env())
    _wait_from_server(url)
    weights = {FLAG: {v.name: v.weight for v in unleash.admin().flag(FLAG).variants}}
    windows = _window(url, "bot-skew")
    verdict = variant_splits_match(windows, weights, CONFIDENCE, MIN_SAMPLES, unleash.plan.url)
    assert verdict.status is Status.FAIL, verdict.reason
    assert "A: 100.0% vs 50.0% +-" in verdict.reason and "outside the 99% bound" in verdict.reason
    assert verdict.observed == {"A": 1.0, "B": 0.0} and verdict.threshold == {"A": 0.5, "B": 0.5}
    strict = variant_splits_match(windows, weights, HEALTHY_CONFIDENCE, MIN_SAMPLES, unleash.plan.url)
    assert strict.status is Status.FAIL, strict.reason
