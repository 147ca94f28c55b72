"""The one place where a measurement becomes an outcome.

A release gate is only as trustworthy as its weakest "pass". Every probe answer
therefore travels as a :class:`Verdict` that carries the measured value, the threshold
it was held against and the evidence behind it, and only :func:`expect` turns a
verdict into a pytest outcome:

* PASS           -> the test passes
* FAIL           -> :class:`CriterionBreached` (an ``AssertionError``: a test failure,
                    Allure "failed", category "Criteria breached")
* ERROR          -> :class:`ProbeError` (Allure "broken", category "Probe error")
* INCONCLUSIVE   -> :class:`InconclusiveError` (Allure "broken", category "Inconclusive")

No data is never a pass: a verdict that claims PASS without an observed value is
refused at construction time.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DECLARED",
    "MEASURED",
    "PROVENANCES",
    "CriterionBreached",
    "Evidence",
    "InconclusiveError",
    "ProbeError",
    "Status",
    "Verdict",
    "VerdictNotPassed",
    "expect",
    "register_policy",
    "register_sink",
]

# Where a verdict's evidence comes from. MEASURED: a live system or a real tool's output
# (the cluster, the metric source, pytest's JUnit, the database). DECLARED: a field the
# team wrote (release.yaml approvals, on-call names, a feature flag's killswitch): the gate
# checks that it was written and is well-formed, never that it is true, so a reader must
# be able to tell such a PASS from one a measurement earned.
MEASURED = "measured"
DECLARED = "declared"
PROVENANCES = (MEASURED, DECLARED)


class Status(enum.StrEnum):
    """Outcome of one criterion, ordered from best to worst for aggregation."""

    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"


@dataclass(frozen=True)
class Evidence:
    """Where a number came from, so a reader can re-run the measurement by hand.

    ``source`` names the evidence source (``prometheus``, ``http``, ``kubernetes``...),
    ``query`` the resolved PromQL, URL or API path, ``window`` the time span in seconds,
    ``samples`` how many data points the value rests on. ``details`` holds anything
    else worth attaching (already redacted by the probe that produced it).
    """

    source: str
    query: str = ""
    window: float | None = None
    samples: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.query:
            out["query"] = self.query
        if self.window is not None:
            out["window_s"] = self.window
        if self.samples is not None:
            out["samples"] = self.samples
        if self.details:
            out["details"] = dict(self.details)
        return out

    def summary(self) -> str:
        """One line a reader can re-run by hand: source, query/URL, window, samples."""
        bits = [self.source]
        if self.query:
            bits.append(self.query)
        if self.window is not None:
            bits.append(f"window {self.window:g}s")
        if self.samples is not None:
            bits.append(f"{self.samples} samples")
        return ", ".join(bits)


def _is_number_like(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Verdict:
    """A criterion's decision with the numbers that justify it.

    ``rollback`` marks criteria of guide §6.1: a FAIL of such a verdict makes the run's
    overall decision ROLLBACK rather than NO-GO. ``provenance`` says whether the evidence
    was measured or only declared by the team (:data:`MEASURED`, :data:`DECLARED`); the
    criterion that reads a declaration says so, everything else is measured.
    """

    criterion: str
    status: Status
    observed: Any = None
    threshold: Any = None
    reason: str = ""
    evidence: tuple[Evidence, ...] = ()
    unit: str = ""
    rollback: bool = False
    provenance: str = MEASURED

    def __post_init__(self) -> None:
        if self.provenance not in PROVENANCES:
            raise ValueError(f"{self.criterion}: provenance {self.provenance!r} is not one of {PROVENANCES}")
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        if isinstance(self.evidence, Evidence):
            object.__setattr__(self, "evidence", (self.evidence,))
        elif not isinstance(self.evidence, tuple):
            object.__setattr__(self, "evidence", tuple(self.evidence))
        if self.status is Status.PASS:
            if self.observed is None:
                raise ValueError(f"{self.criterion}: a PASS needs an observed value")
            if _is_number_like(self.observed) and math.isnan(self.observed):
                raise ValueError(f"{self.criterion}: a PASS cannot rest on NaN")

    # Constructors named after the outcome read better at call sites than Status args.
    @classmethod
    def passed(cls, criterion: str, observed: Any, threshold: Any, reason: str = "", **kw: Any) -> Verdict:
        return cls(criterion, Status.PASS, observed, threshold, reason, **kw)

    @classmethod
    def failed(cls, criterion: str, observed: Any, threshold: Any, reason: str, **kw: Any) -> Verdict:
        return cls(criterion, Status.FAIL, observed, threshold, reason, **kw)

    @classmethod
    def error(cls, criterion: str, reason: str, threshold: Any = None, **kw: Any) -> Verdict:
        return cls(criterion, Status.ERROR, kw.pop("observed", None), threshold, reason, **kw)

    @classmethod
    def inconclusive(cls, criterion: str, reason: str, observed: Any = None, threshold: Any = None, **kw: Any) -> Verdict:
        return cls(criterion, Status.INCONCLUSIVE, observed, threshold, reason, **kw)

    @property
    def ok(self) -> bool:
        return self.status is Status.PASS

    def message(self) -> str:
        """One line a human can act on: status, criterion, value vs threshold, reason."""
        parts = [f"{self.status.value}: {self.criterion}"]
        if self.observed is not None or self.threshold is not None:
            parts.append(
                f"observed {_fmt(self.observed, self.unit)} vs threshold {_fmt(self.threshold, self.unit)}"
            )
        if self.reason:
            parts.append(self.reason)
        if self.provenance == DECLARED:
            parts.append("provenance: declared (a field the team wrote, not a measurement)")
        parts += [f"evidence: {ev.summary()}" for ev in self.evidence]
        return " — ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "status": self.status.value,
            "observed": _jsonable(self.observed),
            "threshold": _jsonable(self.threshold),
            "unit": self.unit,
            "reason": self.reason,
            "rollback": self.rollback,
            "provenance": self.provenance,
            "evidence": [ev.to_dict() for ev in self.evidence],
        }

    def __str__(self) -> str:
        return self.message()


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".rstrip() if unit else text


def _jsonable(value: Any) -> Any:
    if _is_number_like(value) and isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


class VerdictNotPassed(Exception):  # noqa: N818 - the name says what happened to the gate
    """Base of the exceptions :func:`expect` raises; carries the verdict for reporting."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message())
        self.verdict = verdict


class CriterionBreached(VerdictNotPassed, AssertionError):  # noqa: N818 - reads as the outcome
    """FAIL: measured, and the criterion is breached. An AssertionError so Allure says failed."""


class ProbeError(VerdictNotPassed):
    """ERROR: the probe could not measure. Not an AssertionError so Allure says broken."""


class InconclusiveError(VerdictNotPassed):
    """INCONCLUSIVE: measured, but too little data to decide. Never a pass."""


_RAISES: dict[Status, type[VerdictNotPassed]] = {
    Status.FAIL: CriterionBreached,
    Status.ERROR: ProbeError,
    Status.INCONCLUSIVE: InconclusiveError,
}

# Sinks receive every verdict passed to expect(): the Allure attachment, the verdict.json
# collector of the running session. Registered by the pytest plugin, not at import.
_sinks: list[Callable[[Verdict], None]] = []
# Policies may replace a verdict before it is reported, e.g. the environment's
# ``policy.require_measured`` (goldgate.criteria.provenance): they are criteria
# themselves, registered by the pytest plugin with the run's environment.
_policies: list[Callable[[Verdict], Verdict]] = []


def register_policy(policy: Callable[[Verdict], Verdict]) -> Callable[[], None]:
    """Add a verdict policy (verdict in, verdict out); returns a function that removes it."""
    _policies.append(policy)

    def _remove() -> None:
        if policy in _policies:
            _policies.remove(policy)

    return _remove


def register_sink(sink: Callable[[Verdict], None]) -> Callable[[], None]:
    """Add a verdict observer; returns a function that removes it again."""
    _sinks.append(sink)

    def _remove() -> None:
        if sink in _sinks:
            _sinks.remove(sink)

    return _remove


def expect(verdict: Verdict) -> Verdict:
    """Report a verdict and turn it into the pytest outcome it stands for.

    Returns the verdict on PASS so steps can chain on measured values. The environment's
    policies (:func:`register_policy`) see the verdict first and may replace it.
    """
    for policy in list(_policies):
        verdict = policy(verdict)
    for sink in list(_sinks):
        sink(verdict)
    exc = _RAISES.get(verdict.status)
    if exc is not None:
        raise exc(verdict)
    return verdict
