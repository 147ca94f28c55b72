"""How every mutation is performed: ask the safety policy, act, record, attach the evidence.

goldgate is read-only by default; the code in :mod:`goldgate.actions` is the only code
that changes a target. Each action goes through :func:`perform` so that no path can
skip the policy (``--allow-mutations``, ``--change`` on production) and every change —
done or failed — lands in the run's audit record and on the current Allure step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

__all__ = ["ActionFailed", "ActionResult", "SafetyLike", "perform"]

T = TypeVar("T")


class SafetyLike(Protocol):
    """The part of :class:`goldgate.safety.SafetyPolicy` an action needs."""

    def require(self, action: str) -> None: ...

    def record(self, action: str, target: str, outcome: str, **details: Any) -> None: ...


class ActionFailed(Exception):  # noqa: N818 - reads as what happened
    """A permitted mutation that the target refused or that broke half-way."""


@dataclass(frozen=True)
class ActionResult:
    """What was changed, where, and how it went; the evidence of a mutation."""

    action: str
    target: str
    outcome: str
    started: float
    duration_s: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "target": self.target, "outcome": self.outcome,
                "started": self.started, "duration_s": round(self.duration_s, 3), **self.details}


def _attach(result: ActionResult) -> None:
    """Put the action on the current Allure step (a no-op when Allure is not recording)."""
    try:
        import allure

        allure.attach(json.dumps(result.to_dict(), indent=2, default=str),
                      name=f"action: {result.action} {result.target} ({result.outcome})",
                      attachment_type=allure.attachment_type.JSON)
    except Exception:  # noqa: S110 - reporting must never change what happened
        pass


def perform(safety: SafetyLike, action: str, target: str, change: Callable[[], T],
            **details: Any) -> tuple[T, ActionResult]:
    """Run ``change`` under the safety policy and record its outcome either way.

    Raises :class:`goldgate.safety.MutationRefused` before touching anything when the run
    may not mutate, and :class:`ActionFailed` (after recording it) when the change fails.
    """
    safety.require(f"{action} {target}")
    started = time.time()
    t0 = time.monotonic()
    try:
        value = change()
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        result = ActionResult(action, target, "failed", started, time.monotonic() - t0,
                              {**details, "error": reason})
        safety.record(action, target, "failed", **{**details, "error": reason})
        _attach(result)
        raise ActionFailed(f"{action} {target} failed: {reason}") from exc
    result = ActionResult(action, target, "done", started, time.monotonic() - t0, dict(details))
    safety.record(action, target, "done", **details)
    _attach(result)
    return value, result
