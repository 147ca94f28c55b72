"""Mutations of a two-region setup (guide §9.3): the manual failback, and the drill's record.

A failback is an operator's act, never automatic: it is an HTTP call to the global
traffic manager's failback hook (``regions.failback_url``), which runs the runbook's
steps there (resynchronise the primary's database from the promoted one, switch writes
back, point the global endpoint at the primary). The drill's outcome is recorded as an
action too, so the audit trail answers "when did the last failover drill pass".
"""

from __future__ import annotations

from typing import Any

from goldgate.actions.base import ActionFailed, ActionResult, SafetyLike, perform
from goldgate.probes.http import HttpProbe

__all__ = ["fail_back", "record_drill"]

DRILL_ACTION = "failover-drill"


def fail_back(safety: SafetyLike, hook: HttpProbe, *, reason: str = "") -> ActionResult:
    """``POST`` the failback hook; anything but 2xx is a failed action naming the answer."""
    def _post() -> None:
        obs = hook.post("", {"reason": reason or "manual failback"})
        if obs.status is None or not 200 <= obs.status < 300:
            answer = f"HTTP {obs.status}: {obs.body[:200]}" if obs.status is not None else obs.error
            raise ActionFailed(f"POST {hook.base_url} answered {answer}")

    _, result = perform(safety, "failback", hook.base_url, _post, reason=reason)
    return result


def record_drill(safety: SafetyLike, global_url: str, result: str, **measured: Any) -> ActionResult:
    """The drill's result (``passed``/``failed``) and its numbers, into the run's audit record."""
    _, recorded = perform(safety, DRILL_ACTION, global_url, lambda: None, result=result, **measured)
    return recorded
