"""A canary rolled back by weight loses no request: weight 0 first, then the canary scales away.

A private sandbox (its own state directory, stopped afterwards) with the bot's Gateway and
HTTPRoute from deploy/k8s; traffic at 50 req/s enters through the Gateway's published
address, exactly as the canary features send it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldgate.actions import kubernetes as actions
from goldgate.actions.manifests import companion_deployment
from goldgate.config import Environment, load_environment
from goldgate.probes.kubernetes import KubeClients, connect
from goldgate.probes.workloads import deployment_status, pod_facts, replicaset_hashes
from goldgate.rollout import canary
from goldgate.rollout.base import Release, RolloutContext, RolloutReport, own_pods, wait_for_pods
from goldgate.rollout.routers import router_for
from goldgate.rollout.sources import metric_source
from goldgate.rollout.traffic import TrafficStream
from goldgate.safety import SafetyPolicy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def env() -> Environment:
    base = load_environment("local", ROOT / "environments")
    strategy = base.strategy.model_copy(update={
        "router": {"kind": "gateway-api", "name": "trading-bot"}, "canary_phase_s": 6.0,
        "canary_phase_deadline_s": 60.0, "evaluation_interval_s": 1.0, "rollout_timeout_s": 60.0})
    return base.model_copy(update={"strategy": strategy})


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory, env: Environment) -> Iterator[KubeClients]:
    from goldgate.sandbox import lifecycle

    state_dir = tmp_path_factory.mktemp("sandbox")
    info = lifecycle.ensure_running(state_dir, timeout=120)
    clients = connect(env.kubernetes, str(info.kubeconfig))
    try:
        yield clients
    finally:
        clients.close()
        lifecycle.stop(state_dir)


@pytest.fixture
def ctx(env: Environment, kube: KubeClients) -> RolloutContext:
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    return RolloutContext(env, kube, safety, metric_source(env, kube), log=lambda line: None)


def _weights(kube: KubeClients) -> dict[str, int]:
    route = kube.custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "trading", "httproutes",
                                                     "trading-bot")
    return {r["name"]: r["weight"] for r in route["spec"]["rules"][0]["backendRefs"]}


def _selector(kube: KubeClients, service: str = "trading-bot") -> dict[str, str]:
    return dict(kube.core.read_namespaced_service(service, "trading").spec.selector)


def _start(ctx: RolloutContext) -> TrafficStream:
    url = router_for(ctx.env).entry_url(ctx.kube, "")
    assert url.startswith("http://127.0.0.1:"), url
    return TrafficStream(url, rate_rps=50, max_duration_s=180).start()


def test_rollback_sets_weight_zero_before_scaling_down_and_no_request_fails(ctx: RolloutContext) -> None:
    router = router_for(ctx.env)
    stable = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    stable_hash = replicaset_hashes(ctx.kube, ctx.namespace, own_pods(stable.selector))[stable.revision]
    report = RolloutReport("canary", "trading-bot:v1.3.0")
    report.actions.extend(router.prepare(ctx, stable_hash))
    assert _selector(ctx.kube) == {"app": "trading-bot", "pod-template-hash": stable_hash}
    assert _selector(ctx.kube, "trading-bot-canary") == {"app": "trading-bot", "track": "canary"}
    deploy = ctx.kube.api_client.sanitize_for_serialization(
        ctx.kube.apps.read_namespaced_deployment(ctx.deployment, ctx.namespace))
    name = f"{ctx.deployment}-canary"
    report.actions.append(actions.create_deployment(ctx.kube, ctx.safety, ctx.namespace, companion_deployment(
        deploy, name, ("track", "canary"), replicas=0, image="trading-bot:v1.3.0", container="trading-bot")))
    stream = _start(ctx)
    try:
        report.actions.extend(router.shift(ctx, name, stable.replicas, 50, lambda n: wait_for_pods(
            ctx, name, "track=canary", n, deadline_s=60).ok))
        assert _weights(ctx.kube) == {"trading-bot": 50, "trading-bot-canary": 50}
        ctx.sleep(3)
        canary._rollback(ctx, report, name, stable.replicas, "rehearsed rollback", None, router)
        ctx.sleep(2)
    finally:
        stream.stop()
    assert report.outcome == "rolled back", report.reason
    done = [(a.action, a.details.get("weights")) for a in report.actions]
    zero = done.index(("set route weights", {"trading-bot": 100, "trading-bot-canary": 0}))
    assert zero < done.index(("delete deployment", None)), done
    assert stream.stats.sent > 200
    assert (stream.stats.failures, stream.stats.server_errors) == (0, 0), stream.stats.to_dict()
    assert _weights(ctx.kube) == {"trading-bot": 100, "trading-bot-canary": 0}
    assert _selector(ctx.kube) == _selector(ctx.kube, "trading-bot-canary") == {"app": "trading-bot"}
    assert not [p for p in pod_facts(ctx.kube, ctx.namespace, "track=canary") if not p.deleting]


def test_a_faulty_canary_is_rolled_back_by_weight_at_its_first_phase(ctx: RolloutContext) -> None:
    stream = _start(ctx)
    try:
        report = canary.canary(ctx, Release("trading-bot:v1.2.0-errors"))
    finally:
        stream.stop()
    assert report.rolled_back, (report.outcome, report.reason)
    assert report.trigger is not None and report.trigger.criterion.startswith("error rate")
    first = report.phases[0] if report.phases else {}
    assert first.get("weight") == 10 and first.get("effective_weight") == 10.0
    assert first.get("traffic", "").startswith("HTTPRoute trading/trading-bot")
    assert stream.stats.failures == 0, stream.stats.to_dict()
    assert _weights(ctx.kube) == {"trading-bot": 100, "trading-bot-canary": 0}
    assert _selector(ctx.kube) == _selector(ctx.kube, "trading-bot-canary") == {"app": "trading-bot"}
    done = [(a.action, a.details.get("weights")) for a in report.actions]
    removed_at = max(i for i, (action, _) in enumerate(done) if action == "delete deployment")
    before = [w for action, w in done[:removed_at] if action == "set route weights"]
    assert before[-1] == {"trading-bot": 100, "trading-bot-canary": 0}, done
    assert all(a["outcome"] == "done" for a in ctx.safety.actions)  # type: ignore[attr-defined]


def test_a_route_that_is_not_there_stops_the_canary_before_anything_changes(ctx: RolloutContext) -> None:
    strategy = ctx.env.strategy.model_copy(update={"router": {"kind": "gateway-api", "name": "no-such-route"}})
    ctx.env = ctx.env.model_copy(update={"strategy": strategy})
    before = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    report = canary.canary(ctx, Release("trading-bot:v1.3.0"))
    assert report.outcome == "not supported"
    assert "HTTPRoute trading/no-such-route" in report.reason and "HTTP 404" in report.reason
    assert not [p for p in pod_facts(ctx.kube, ctx.namespace, "track=canary") if not p.deleting]
    assert not [a for a in report.actions if a.action == "create deployment"]
    assert deployment_status(ctx.kube, ctx.namespace, ctx.deployment).images == before.images
