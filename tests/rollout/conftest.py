"""A private sandbox for the fault matrix: its own state dir, started once, stopped after.

The environment is local.yaml with the durations shortened further (phases and windows
of a few seconds) and the error-rate test truncated at 150 requests, so every fault
resolves in seconds; the decision rules are the production ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from goldgate.actions import kubernetes as actions
from goldgate.config import Environment, load_environment
from goldgate.probes.kubernetes import KubeClients, service_url
from goldgate.probes.workloads import deployment_status
from goldgate.rollout.base import RolloutContext, own_pods, wait_for_pods
from goldgate.rollout.sources import metric_source
from goldgate.rollout.traffic import TrafficStream
from goldgate.safety import SafetyPolicy
from tests.sandboxes import own_sandbox, sandbox_clients

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS = "trading-bot:v1.1.0"
RELEASE = "trading-bot:v1.2.0"


@pytest.fixture(scope="module")
def matrix_env() -> Environment:
    env = load_environment("local", ROOT / "environments")
    # The matrix exercises the replica-ratio split (no router); tests/gateway covers route weights.
    strategy = env.strategy.model_copy(update={
        "canary_phase_s": 6.0, "canary_phase_deadline_s": 14.0, "monitoring_window_s": 6.0,
        "evaluation_interval_s": 1.0, "rollout_timeout_s": 60.0, "router": None})
    test = env.error_rate_test.model_copy(update={"max_requests": 150})
    # The matrix rehearses the §6.1 triggers in phases of a few seconds, shorter than the ~60 paired
    # bars a trading comparison needs; the trading triggers have their own sandbox (tests/trading).
    trading = env.trading.model_copy(update={"enabled": False})
    return env.model_copy(update={"strategy": strategy, "error_rate_test": test, "trading": trading})


@pytest.fixture(scope="module")
def private_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from own_sandbox(tmp_path_factory, "sandbox")


@pytest.fixture(scope="module")
def kube(private_sandbox: Any, matrix_env: Environment) -> Iterator[KubeClients]:
    yield from sandbox_clients(private_sandbox, matrix_env)


@pytest.fixture
def safety() -> SafetyPolicy:
    return SafetyPolicy("local", production=False, allow_mutations=True)


@pytest.fixture
def ctx(matrix_env: Environment, kube: KubeClients, safety: SafetyPolicy) -> RolloutContext:
    return RolloutContext(matrix_env, kube, safety, metric_source(matrix_env, kube), log=lambda line: None)


@pytest.fixture
def traffic(kube: KubeClients, matrix_env: Environment) -> Iterator[Callable[[float], TrafficStream]]:
    """Start a bounded loopback request stream to the Service; stopped after the test."""
    streams: list[TrafficStream] = []

    def _start(rate: float = 50.0) -> TrafficStream:
        url = service_url(kube, matrix_env.kubernetes.namespace, matrix_env.kubernetes.service)
        stream = TrafficStream(url, rate_rps=rate, max_duration_s=120).start()
        streams.append(stream)
        return stream

    yield _start
    for s in streams:
        s.stop()


def run_image(ctx: RolloutContext, image: str) -> None:
    """Bring production to ``image`` (the 'previous release' a fault test starts from)."""
    status = deployment_status(ctx.kube, ctx.namespace, ctx.deployment)
    if status.images != (image,):
        actions.release(ctx.kube, ctx.safety, ctx.namespace, ctx.deployment, ctx.env.kubernetes.container,
                        image=image)
    waited = wait_for_pods(ctx, ctx.deployment, own_pods(status.selector), status.replicas, deadline_s=60,
                           complete=True, fail_fast=False)
    assert waited.ok, waited.reason
