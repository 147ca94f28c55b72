"""One private sandbox for every end-to-end trading test: started once, stopped after.

The environment is local.yaml with short phases (the trading tests need about 60 paired
bars, 15 s of the sandbox's 0.5 s bars on two symbols, before agreement may PASS) and the
replica-ratio split; the trading rules and numbers are local.yaml's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from goldgate.config import Environment, load_environment
from goldgate.probes.kubernetes import KubeClients, service_url
from goldgate.rollout.base import RolloutContext
from goldgate.rollout.sources import metric_source
from goldgate.rollout.traffic import TrafficStream
from goldgate.safety import SafetyPolicy
from tests.sandboxes import own_sandbox, sandbox_clients

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def trading_env() -> Environment:
    env = load_environment("local", ROOT / "environments")
    strategy = env.strategy.model_copy(update={
        "canary_phase_s": 6.0, "canary_phase_deadline_s": 40.0, "monitoring_window_s": 6.0,
        "evaluation_interval_s": 1.0, "rollout_timeout_s": 60.0, "router": None})
    test = env.error_rate_test.model_copy(update={"max_requests": 150})
    return env.model_copy(update={"strategy": strategy, "error_rate_test": test})


@pytest.fixture(scope="session")
def trading_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from own_sandbox(tmp_path_factory, "trading-sandbox")


@pytest.fixture(scope="session")
def trading_kube(trading_sandbox: Any, trading_env: Environment) -> Iterator[KubeClients]:
    yield from sandbox_clients(trading_sandbox, trading_env)


@pytest.fixture
def trading_ctx(trading_env: Environment, trading_kube: KubeClients) -> RolloutContext:
    safety = SafetyPolicy("local", production=False, allow_mutations=True)
    return RolloutContext(trading_env, trading_kube, safety, metric_source(trading_env, trading_kube),
                          log=lambda line: None)


@pytest.fixture
def trading_traffic(trading_kube: KubeClients, trading_env: Environment) -> Iterator[Callable[[], TrafficStream]]:
    streams: list[TrafficStream] = []

    def _start(rate: float = 50.0) -> TrafficStream:
        url = service_url(trading_kube, trading_env.kubernetes.namespace, trading_env.kubernetes.service)
        stream = TrafficStream(url, rate_rps=rate, max_duration_s=180).start()
        streams.append(stream)
        return stream

    yield _start
    for s in streams:
        s.stop()
