"""A closed market during a phase: the trading checks are INCONCLUSIVE naming it, never PASS,
and the evaluation holds (on the shared trading sandbox, its market closed and reopened)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from goldgate.actions.trading import set_market_session
from goldgate.criteria.trading_rollout import closed_market_held
from goldgate.probes.workloads import deployment_status
from goldgate.rollout.base import RolloutContext
from goldgate.rollout.monitor import Group, Outcome, RollbackMonitor
from goldgate.rollout.trading_monitor import MARKET, TRADING_TRIGGERS, trading_monitor
from goldgate.verdict import Status

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def closed_market(trading_sandbox: Any, trading_ctx: RolloutContext) -> Iterator[None]:
    from goldgate.sandbox.market.process import feed_url

    url = f"{feed_url(trading_sandbox.state_dir)}/v1/market"
    set_market_session(trading_ctx.safety, url, open_=False, reason="test: market closed")
    try:
        yield
    finally:
        set_market_session(trading_ctx.safety, url, open_=True, reason="test done")


def test_a_closed_market_holds_the_trading_checks_inconclusive(trading_ctx: RolloutContext,
                                                               closed_market: None) -> None:
    ctx = trading_ctx
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    group = Group("release", dict(status.selector), ctx.namespace)
    monitor = RollbackMonitor(ctx.env, ctx.kube, ctx.source, group, baseline_p95_s=1.0,
                              trading=trading_monitor(ctx.env, ctx.kube, group, None))
    monitor.start()
    verdicts = []
    for _ in range(4):
        time.sleep(1.5)
        a = monitor.evaluate()
        assert a.outcome is not Outcome.PASS, a.summary()
        verdicts = [v for v in a.verdicts if v.criterion in TRADING_TRIGGERS]
        assert all(v.status is not Status.PASS for v in verdicts if v.criterion == MARKET)
    market = next(v for v in verdicts if v.criterion == MARKET)
    assert market.status is Status.INCONCLUSIVE and ("market" in market.reason or "no bars" in market.reason)
    assert closed_market_held(verdicts, outcome=a.outcome.value, market=MARKET).status is Status.PASS
