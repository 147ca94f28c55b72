"""Metric sources: Prometheus (PromQL over HTTP) and scrape (pods' ``/metrics`` directly).

Both implement :class:`~goldgate.probes.metrics.base.MetricSource` and answer with a
:class:`~goldgate.probes.metrics.base.Measurement`; the criteria decide.
"""

from goldgate.probes.metrics.base import (
    DEFAULT_API_ROUTES,
    Measurement,
    MetricSource,
    RequestCounts,
    Selector,
)
from goldgate.probes.metrics.prometheus import PrometheusSource
from goldgate.probes.metrics.scrape import KubernetesTargets, ScrapeSource, StaticTargets, Target

__all__ = [
    "DEFAULT_API_ROUTES",
    "KubernetesTargets",
    "Measurement",
    "MetricSource",
    "PrometheusSource",
    "RequestCounts",
    "ScrapeSource",
    "Selector",
    "StaticTargets",
    "Target",
]
