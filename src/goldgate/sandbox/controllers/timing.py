"""Sandbox time: which Kubernetes durations are compressed, and by how much.

The guide's probe timings (liveness after 30 s every 10 s, readiness after 10 s every
5 s) are right for production but would make every sandbox start and every rolling
update take minutes. The manifests keep the guide's numbers verbatim — they are
the real ones, validated for a real cluster — and the kubelet multiplies only probe
``initialDelaySeconds`` and ``periodSeconds`` by ``GOLDGATE_SANDBOX_TIME_SCALE``
(default 0.1). Timeouts, grace periods, minReadySeconds and progress deadlines are
*not* scaled: they are limits a test sets deliberately, and scaling them would make
``kubectl`` output disagree with the object the user wrote.

One delay is not compressed: a liveness probe's ``initialDelaySeconds``. It is the start-up
allowance the manifest grants a container before the kubelet may kill it, and a Python
process loading its model does not start ten times faster in the sandbox. Compressed to
3 s (+ three 1 s periods), a loaded machine's bots failed two of the three liveness probes a
restart takes before they listened, a slower one restarted a pod, and the restart failed
"the bot's pods are Ready and do not restart" — a verdict about the machine running the
sandbox, not the release. It does not delay a pod's readiness.

Other knobs (all seconds, all environment variables, read when a Cluster starts):

- ``GOLDGATE_SANDBOX_BACKOFF_S`` (default 10): first CrashLoopBackOff / image pull
  back-off; doubles per restart up to ``GOLDGATE_SANDBOX_BACKOFF_CAP_S`` (default 300),
  as the kubelet does. Tests lower it to keep crash-loop scenarios short.
- ``GOLDGATE_SANDBOX_DRAIN_S``: the connection-draining pause between a pod leaving
  its Service's endpoints and its SIGTERM when the container has no ``preStop`` hook.
  Default: the guide's 30 s drain timeout (§7.3) times the time scale (3 s).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

GUIDE_DRAIN_S = 30.0


def _env_float(name: str, default: float, low: float = 0.0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if value < low:
        raise ValueError(f"{name}={raw!r} must be >= {low}")
    return value


@dataclass(frozen=True)
class Timing:
    scale: float = 0.1
    backoff_s: float = 10.0
    backoff_cap_s: float = 300.0
    drain_s: float = GUIDE_DRAIN_S * 0.1

    @classmethod
    def from_env(cls) -> Timing:
        scale = _env_float("GOLDGATE_SANDBOX_TIME_SCALE", 0.1)
        return cls(
            scale=scale,
            backoff_s=_env_float("GOLDGATE_SANDBOX_BACKOFF_S", 10.0),
            backoff_cap_s=_env_float("GOLDGATE_SANDBOX_BACKOFF_CAP_S", 300.0),
            drain_s=_env_float("GOLDGATE_SANDBOX_DRAIN_S", GUIDE_DRAIN_S * scale),
        )

    def initial_delay(self, kind: str, seconds: float) -> float:
        """A probe's initial delay in sandbox seconds: the liveness start-up allowance as written."""
        return max(0.0, seconds) if kind == "Liveness" else self.probe(seconds)

    def probe(self, seconds: float) -> float:
        """A probe delay or period in sandbox seconds (never below 50 ms)."""
        return max(0.05, seconds * self.scale) if seconds > 0 else 0.0

    def backoff(self, restarts: int) -> float:
        """Back-off before restart number ``restarts`` (0 = first restart: immediate)."""
        if restarts <= 0:
            return 0.0
        return min(self.backoff_cap_s, self.backoff_s * 2 ** (restarts - 1))
