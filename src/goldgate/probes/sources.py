"""The metric source a monitor reads, chosen by the environment, and its windows.

A monitor needs "everything since the phase began" again and again. The scrape source
keeps its reads in a :class:`~goldgate.probes.metrics.scrape.ScrapeWindow` (one more
scrape per evaluation, deltas from the first); Prometheus is simply asked about the
last ``elapsed`` seconds. :class:`GrowingWindow` hides the difference.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from goldgate.config import Environment, resolve_secret
from goldgate.probes.kubernetes import KubeClients
from goldgate.probes.metrics import (
    KubernetesTargets,
    Measurement,
    PrometheusSource,
    ScrapeSource,
    Selector,
)
from goldgate.probes.metrics.scrape import Observation

__all__ = ["GrowingWindow", "metric_source"]

#: Pods sharing one address publish their real metrics ports in this annotation; read
#: whenever a pod carries it (pods without it are scraped on their declared ports).
PORT_MAP_ANNOTATION = "sandbox.goldgate.io/ports"


def metric_source(env: Environment, kube: KubeClients) -> Any:
    """The environment's metric source (``metrics.source``) with the run's timeouts."""
    t = env.timeouts
    if env.metrics.source == "prometheus":
        headers = {}
        if env.metrics.prometheus_auth:
            headers["Authorization"] = resolve_secret(env.metrics.prometheus_auth)
        return PrometheusSource(env.metrics.prometheus_url or "", queries=env.metrics.queries,
                                routes=env.metrics.routes, connect_timeout_s=t.connect_s,
                                read_timeout_s=t.read_s, retries=t.retries, backoff_s=t.backoff_s,
                                headers=headers)
    discovery = KubernetesTargets(kube.core, namespace=env.kubernetes.namespace, timeout_s=kube.timeout,
                                  port_map_annotation=PORT_MAP_ANNOTATION)
    return ScrapeSource(discovery, routes=env.metrics.routes, connect_timeout_s=t.connect_s,
                        read_timeout_s=t.read_s, retries=min(1, t.retries))


class GrowingWindow:
    """Request counts and latency of one pod selection since :meth:`open` was called."""

    def __init__(self, source: Any, selector: Selector, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.selector = selector
        self._clock = clock
        self._opened = clock()
        self._opened_wall = time.time()
        self._scrape = source.start(selector) if hasattr(source, "start") else None
        self._obs: Observation | Measurement | None = None

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self._opened

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON from which :meth:`restore` continues this window in another process."""
        return {"opened_wall": self._opened_wall,
                "scrape": self._scrape.snapshot() if self._scrape is not None else None}

    def restore(self, snap: Any) -> None:
        """Reopen the window where a :meth:`snapshot` opened it (wall clock: the downtime is inside
        the window, as the counters saw it). ValueError when the snapshot cannot be read."""
        if not isinstance(snap, dict) or not isinstance(snap.get("opened_wall"), int | float):
            raise ValueError("malformed window: no opening time")
        opened_wall = float(snap["opened_wall"])
        if not math.isfinite(opened_wall) or opened_wall > time.time():
            raise ValueError(f"malformed window: opening time {opened_wall!r} is not in the past")
        if self._scrape is not None:
            if not isinstance(snap.get("scrape"), dict):
                raise ValueError("the window was read from another metric source")
            self._scrape.restore(snap["scrape"])
            self._obs = self._scrape.observation()
        self._opened = self._clock() - (time.time() - opened_wall)
        self._opened_wall = opened_wall

    def advance(self) -> None:
        """Take this evaluation's reading (one scrape round for the scrape source)."""
        if self._scrape is not None:
            self._scrape.scrape()
            self._obs = self._scrape.observation()

    def request_counts(self) -> Measurement:
        if self._scrape is None:
            return self.source.request_counts(max(1.0, self.elapsed_s), self.selector)
        obs = self._obs
        if obs is None:
            return Measurement(self.source.name, str(self.selector), reason="no reading taken yet")
        return obs if isinstance(obs, Measurement) else obs.request_counts()

    def latency_quantile(self, q: float) -> Measurement:
        if self._scrape is None:
            return self.source.latency_quantile(q, max(1.0, self.elapsed_s), self.selector)
        obs = self._obs
        if obs is None:
            return Measurement(self.source.name, str(self.selector), reason="no reading taken yet")
        return obs if isinstance(obs, Measurement) else obs.latency_quantile(q)
