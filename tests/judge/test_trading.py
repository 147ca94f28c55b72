"""Trading rehearsals through the judge: a controller is told ROLLBACK (or to hold) for what the release trades.

On the judge's sandbox (tests/judge/conftest.py), each rehearsal is judged at once through
the three ways a controller asks: Flagger's ``rollout`` webhook (4xx with the reason in the
body; https://docs.flagger.app/usage/webhooks), Argo Rollouts' ``web`` provider (200 with the
verdict in the body; https://argoproj.github.io/argo-rollouts/analysis/web/) and
``goldgate judge`` for Argo's ``job`` provider (the exit code; a thread beside the calls).

* a faulty release runs as ``trading-bot-canary`` beside the stable ``trading-bot`` (the
  companion Deployment a goldgate canary starts): half its signals flipped
  (FAULT_SIGNAL_FLIP, caught by signal agreement against the stable pods), three times the
  stable's entries (FAULT_TRADE_MULTIPLIER, the trade-rate test beside the stable), orders ten
  times the volume limit (FAULT_ORDER_SIZE_MULTIPLIER, the pre-trade limits guard), or fills
  50 bps worse (FAULT_FILL_SLIPPAGE_BPS, the P&L drawdown guard);
* the market closed (the sandbox market's session control): INCONCLUSIVE naming the
  market, 409 on Flagger's confirm hooks, 200 with INCONCLUSIVE for Argo, exit 3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from goldgate.actions import kubernetes as actions
from goldgate.actions.manifests import companion_deployment
from goldgate.actions.trading import set_market_session
from goldgate.cli import main
from goldgate.config import Environment
from goldgate.judge.cli import EXIT_CODES
from goldgate.probes.kubernetes import KubeClients
from tests.judge.conftest import (
    AUTH,
    MUTATE,
    TOKEN,
    current_hash,
    environments,
    judge_cmd,
    make_client,
    poll,
    traffic,
    wait_ready,
)

pytestmark = pytest.mark.sandbox  # each test here judges the sandbox's live pods

CANARY = "trading-bot-canary"
#: A wrong PASS or an ERROR ends the wait at once; a FAIL does not: it may be an alert that
#: holds before the trading guard decides (a loaded machine's pods cross the §8.3 CPU alert).
DECIDED = ("PASS", "ROLLBACK", "ERROR")


@pytest.fixture
def faulty_canary(request: pytest.FixtureRequest, env: Environment, kube: KubeClients) -> Iterator[str]:
    """One pod of the release with the fault knobs beside the stable pods; deleted afterwards."""
    ns = env.kubernetes.namespace
    deploy = kube.api_client.sanitize_for_serialization(
        kube.apps.read_namespaced_deployment(env.kubernetes.deployment, ns, _request_timeout=kube.timeout))
    manifest = companion_deployment(deploy, CANARY, ("track", "canary"), replicas=1,
                                    container=env.kubernetes.container, env=request.param)
    actions.create_deployment(kube, MUTATE, ns, manifest)
    try:
        wait_ready(env, kube, CANARY)
        yield current_hash(kube, env, CANARY)
    finally:
        actions.delete_deployment(kube, MUTATE, ns, CANARY, reason="trading rehearsal done")


def _judge_job(args: list[str]) -> int:
    return main(args)


@pytest.mark.parametrize(("faulty_canary", "trigger"), [
    ({"FAULT_SIGNAL_FLIP": "0.5"}, "signal agreement"),
    ({"FAULT_TRADE_MULTIPLIER": "3"}, "trade rate"),
    ({"FAULT_ORDER_SIZE_MULTIPLIER": "10"}, "pre-trade limits"),
    ({"FAULT_FILL_SLIPPAGE_BPS": "50"}, "p&l drawdown"),
], ids=["flip", "overtrade", "oversize", "slippage"], indirect=["faulty_canary"])
def test_a_trading_fault_is_a_rollback_with_its_reason_for_every_controller(
        faulty_canary: str, trigger: str, env: Environment, kube: KubeClients, sandbox: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    flagger = {"name": CANARY, "namespace": "trading", "phase": "Progressing", "checksum": "6f8b9c-trading",
               "metadata": {"token": TOKEN}}
    argo = {"namespace": "trading", "workload": CANARY, "revision": faulty_canary}
    folder = environments(tmp_path)
    with ThreadPoolExecutor(1) as pool, make_client(env, kube, tmp_path / "t.sqlite3") as c:
        job = pool.submit(_judge_job, judge_cmd(folder, sandbox, tmp_path, faulty_canary, "90s", workload=CANARY))
        c.post("/v1/argo", json=argo, headers=AUTH)  # both runs open now and gather evidence side by side
        hook = poll(c, "/v1/flagger/rollout", flagger, until=DECIDED, deadline_s=90)
        web = poll(c, "/v1/argo", argo, until=DECIDED, deadline_s=30)
        code = job.result(timeout=120)
    out = json.loads(capsys.readouterr().out)
    assert (hook.status_code, hook.json()["verdict"]) == (422, "ROLLBACK"), hook.json()
    assert trigger in hook.json()["reason"].lower() and "threshold" in hook.json()["reason"], hook.json()
    assert (web.status_code, web.json()["verdict"]) == (200, "ROLLBACK"), web.json()
    assert trigger in web.json()["reason"].lower(), web.json()
    assert (code, out["verdict"]) == (EXIT_CODES["ROLLBACK"], "ROLLBACK"), out
    assert trigger in out["reason"].lower(), out
    breached = [ch for ch in web.json()["checks"] if ch["verdict"] == "ROLLBACK"]
    assert breached and breached[0]["threshold"] is not None and breached[0]["value"] is not None, breached


@pytest.fixture
def closed_market(sandbox: Any) -> Iterator[None]:
    from goldgate.sandbox.market.process import feed_url

    url = f"{feed_url(sandbox.state_dir)}/v1/market"
    set_market_session(MUTATE, url, open_=False, reason="test: market closed under the judge")
    try:
        yield
    finally:
        set_market_session(MUTATE, url, open_=True, reason="test done")


def test_a_closed_market_holds_every_controller_inconclusive(env: Environment, kube: KubeClients, sandbox: Any,
                                                             tmp_path: Path, closed_market: None,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    revision = current_hash(kube, env)
    flagger = {"name": "trading-bot", "namespace": "trading", "phase": "Progressing", "checksum": "6f8b9c-closed",
               "metadata": {"token": TOKEN}}
    argo = {"namespace": "trading", "workload": "trading-bot", "revision": revision}
    stream = traffic(kube, env)  # requests enough for the error-rate test: only the market holds the run
    try:
        with make_client(env, kube, tmp_path / "m.sqlite3") as c:
            c.post("/v1/argo", json=argo, headers=AUTH)
            code = main(judge_cmd(environments(tmp_path), sandbox, tmp_path, revision, "5s"))
            held = poll(c, "/v1/flagger/confirm-promotion", flagger, until=(*DECIDED, "INCONCLUSIVE"), deadline_s=15,
                        evaluated=2)
            web = poll(c, "/v1/argo", argo, until=(*DECIDED, "INCONCLUSIVE"), deadline_s=15, evaluated=2)
    finally:
        stream.stop()
    out = json.loads(capsys.readouterr().out)
    assert (held.status_code, held.json()["verdict"]) == (409, "INCONCLUSIVE"), held.json()
    assert (web.status_code, web.json()["verdict"]) == (200, "INCONCLUSIVE"), web.json()
    assert (code, out["verdict"]) == (EXIT_CODES["INCONCLUSIVE"], "INCONCLUSIVE"), out
    for body in (held.json(), web.json(), out):
        assert "market is closed" in body["reason"] or "market closed" in body["reason"], body["reason"]
    market = [ch for ch in web.json()["checks"] if "market" in ch["name"].lower()]
    assert market and market[0]["verdict"] == "INCONCLUSIVE", web.json()["checks"]
