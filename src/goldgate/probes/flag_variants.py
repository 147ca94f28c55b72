"""How the release's pods split their requests between an A/B flag's variants, over a window.

The flag server holds the split a team configured; whether requests really follow it is seen
in the pods: each pod counts the requests it answered per variant (a Prometheus counter,
``flags.variant_metric``, labels ``flag`` and ``variant``), read straight from every pod's
``/metrics`` as the kill-switch readings are. Two scrapes, at the start and the end of the
window; the increase of each pod's counter is that pod's share of the window. A counter that
went down (the pod restarted) counts from zero; a pod present at only one end counts what it
shows at the end (it started inside the window) or nothing (it left). A pod that cannot be
read at either end makes the whole reading fail: its requests are unknown, and a split
without them would be a guess.

Examples::

    counts = VariantCounts(scrape, "trading", "app=trading-bot", "bot_flag_variant_requests_total")
    [window] = counts.over_window(["signal_model_ab"], 30.0)
    window.counts            # {"A": 311, "B": 296}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from goldgate.probes.metrics import ScrapeSource, Selector
from goldgate.probes.metrics.scrape import ScrapeResult

__all__ = ["VariantCounts", "VariantReadError", "VariantWindow"]


class VariantReadError(RuntimeError):
    """A pod's variant counts could not be read; the message names the pod and why."""


@dataclass(frozen=True)
class VariantWindow:
    """Requests per variant of one flag over ``window_s``, summed over the pods."""

    flag: str
    window_s: float
    counts: Mapping[str, int]
    pods: Sequence[str] = ()
    per_pod: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


class VariantCounts:
    """Reads the per-variant request counter of every pod a label selector names."""

    def __init__(self, scrape: ScrapeSource, namespace: str, label_selector: str, metric: str, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.scrape = scrape
        self.selector = Selector.parse(label_selector, namespace)
        self.metric = metric
        self._clock = clock
        self._sleep = sleep

    def totals(self, flags: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
        """Pod -> flag -> variant -> the counter's value now."""
        return {result.target.key: self._pod(result, flags) for result in self.scrape.snapshot(self.selector)}

    def _pod(self, result: ScrapeResult, flags: Sequence[str]) -> dict[str, dict[str, float]]:
        if result.error:
            raise VariantReadError(f"pod {result.target.key}: {result.error}")
        values: dict[str, dict[str, float]] = {flag: {} for flag in flags}
        for (name, labels), value in result.samples.items():
            if name != self.metric:
                continue
            named = dict(labels)
            flag, variant = named.get("flag"), named.get("variant")
            if flag in values and variant:
                values[flag][variant] = values[flag].get(variant, 0.0) + value
        return values

    def over_window(self, flags: Sequence[str], window_s: float) -> list[VariantWindow]:
        """Counts of every flag at the start and the end of ``window_s``; the increase per variant."""
        start = self.totals(flags)
        began = self._clock()
        self._sleep(window_s)
        end = self.totals(flags)
        took = round(self._clock() - began, 3)
        return [self._window(flag, start, end, took) for flag in flags]

    @staticmethod
    def _window(flag: str, start: Mapping[str, Mapping[str, Mapping[str, float]]],
                end: Mapping[str, Mapping[str, Mapping[str, float]]], took: float) -> VariantWindow:
        per_pod: dict[str, dict[str, int]] = {}
        for pod, flags in end.items():
            before = start.get(pod, {}).get(flag, {})
            now = flags.get(flag, {})
            # a counter that went down restarted with its pod: it counts from zero
            per_pod[pod] = {v: round(n - before.get(v, 0.0) if n >= before.get(v, 0.0) else n)
                            for v, n in now.items()}
        counts: dict[str, int] = {}
        for values in per_pod.values():
            for variant, n in values.items():
                counts[variant] = counts.get(variant, 0) + n
        return VariantWindow(flag, took, counts, tuple(sorted(end)), per_pod)
