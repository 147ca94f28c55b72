"""A container's CPU use as ``metrics.k8s.io`` reports it: a rate over a window, not a 1 s sample.

metrics-server serves CPU as the average rate over its resolution window (the ``window`` of
every PodMetrics object; the sandbox's API states 15 s), so a pod that is starved for a
second and then works off its backlog does not show a spike. The kubelet samples every
:data:`~goldgate.sandbox.controllers.container.SAMPLE_S`; each sample is the average rate
since the one before (``psutil``'s ``cpu_percent(None)``), and this keeps the samples of the
last window and serves their time-weighted mean. Served per 1 s sample, a bot on a busy CI
machine read 70.5 % of its limit in one sample and crossed the §8.3 CPU alert, where
metrics-server would have served the rate over 15 s. The window is real time (CPU seconds
are not compressed by the sandbox's time scale). One difference stays: in a container's first
15 s the mean runs from its start, start-up included (the reference bot: about 0.6 CPU
seconds before Ready at 0.75 s on this 2-core machine, so about 0.3 of a core 2 s after the
start), where metrics-server shows nothing until its second scrape and its first rate begins
at the first scrape after the start.
"""

from __future__ import annotations

from collections import deque

#: The window of the sandbox's ``metrics.k8s.io``: ``apiserver/metrics.py`` states this one.
WINDOW_S = 15.0


class CpuWindow:
    """Time-weighted mean of per-interval CPU rates (cores) over the last ``seconds``."""

    def __init__(self, seconds: float = WINDOW_S) -> None:
        if not seconds > 0:
            raise ValueError(f"a CPU window is a positive number of seconds, got {seconds!r}")
        self.seconds = seconds
        self._last: float | None = None
        self._samples: deque[tuple[float, float, float]] = deque()  # (end, length, cores)

    def add(self, at: float, cores: float) -> float:
        """Record the rate measured from the previous sample to ``at`` (monotonic seconds); the
        first call only starts the clock (its rate covers no known interval). Returns the mean."""
        if self._last is not None and at > self._last:
            self._samples.append((at, at - self._last, max(0.0, cores)))
        self._last = at if self._last is None else max(self._last, at)
        while self._samples and self._samples[0][0] <= at - self.seconds:
            self._samples.popleft()
        return self.mean()

    def mean(self) -> float:
        """The window's mean rate; 0.0 before two samples (nothing measured yet)."""
        length = sum(s[1] for s in self._samples)
        return sum(s[1] * s[2] for s in self._samples) / length if length > 0 else 0.0
