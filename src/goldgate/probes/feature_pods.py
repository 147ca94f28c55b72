"""What each pod of the release does with a feature right now, and whether it was restarted.

A kill switch is proven by the pods, not by the flag server: each pod exports a gauge per
feature (``flags.feature_metric``, label ``feature``; 1 while it uses the feature, 0 when
switched off), read straight from every pod's ``/metrics`` (the scrape source's pod
discovery), and the pod's uid and container restart counts come from the Kubernetes API, so
"without redeployment" is measured: the same uids and restart counts before and after.

Examples::

    reader = FeaturePods(scrape, kube.core, "trading", "app=trading-bot", "bot_feature_enabled")
    [p.value for p in reader.read("order_idempotency")]     # [1.0, 1.0, 1.0]
    reader.identities()                                    # {"trading-bot-x": ("uid", 0), ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goldgate.probes.metrics import ScrapeSource, Selector

__all__ = ["FeaturePods", "PodFeature"]


@dataclass(frozen=True)
class PodFeature:
    """One pod's reading of one feature: the gauge's value, or why there is none."""

    pod: str
    value: float | None
    error: str = ""


class FeaturePods:
    """Reads the feature gauge of every Running pod a label selector names."""

    def __init__(self, scrape: ScrapeSource, core: Any, namespace: str, label_selector: str, metric: str,
                 timeout: Any = None) -> None:
        self.scrape = scrape
        self.core = core
        self.namespace = namespace
        self.label_selector = label_selector
        self.metric = metric
        self.timeout = timeout

    def read(self, feature: str) -> list[PodFeature]:
        out = []
        for result in self.scrape.snapshot(Selector.parse(self.label_selector, self.namespace)):
            pod = result.target.key
            if result.error:
                out.append(PodFeature(pod, None, result.error))
                continue
            value = next((v for (name, labels), v in result.samples.items()
                          if name == self.metric and ("feature", feature) in labels), None)
            out.append(PodFeature(pod, value, "" if value is not None else
                                  f"{result.target.url}: no {self.metric}{{feature=\"{feature}\"}}"))
        return sorted(out, key=lambda p: p.pod)

    def identities(self) -> dict[str, tuple[str, int]]:
        """Pod name -> (uid, total container restarts) of the selected pods (Kubernetes API)."""
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=self.label_selector,
                                             _request_timeout=self.timeout)
        found = {}
        for pod in pods.items:
            statuses = (pod.status.container_statuses if pod.status is not None else None) or []
            found[pod.metadata.name] = (str(pod.metadata.uid), sum(int(s.restart_count or 0) for s in statuses))
        return found


@dataclass(frozen=True)
class KillSwitchRun:
    """What the pods did while a flag was switched off (filled by :mod:`goldgate.actions.flags`).

    ``before`` / ``after``: pod -> (uid, restarts) around the exercise. ``on_before``: the
    pods' readings just before the switch; ``off_after_s``: pod -> seconds from the switch
    to the first reading showing the feature off (absent: never within the watch).
    """

    flag: str
    watched_s: float
    before: dict[str, tuple[str, int]]
    after: dict[str, tuple[str, int]]
    on_before: tuple[PodFeature, ...]
    off_after_s: dict[str, float]
    readings: int
    restored: bool
    errors: tuple[str, ...] = ()
