"""Fault knobs of the reference trading bot: the one place they are defined and documented.

A bad release in the sandbox is simply a pod whose environment turns one of these knobs,
e.g. ``kubectl set env deploy/trading-bot FAULT_ERROR_RATE=0.03``. Every knob is read
once at start from an environment variable; an empty variable counts as unset. A value
that does not parse or is out of range stops the bot with exit status 2 and a one-line
message naming the variable and the value, so a misconfigured fault can never silently
look like a healthy release.

Error, latency, stall and padding knobs touch only ``/api/`` routes: liveness, readiness and
metrics stay cheap so the orchestrator and Prometheus keep seeing the pod.

The meaning of each knob is its attribute docstring below; :func:`describe` reads those
docstrings so a CLI (``goldgate sandbox faults``) lists exactly what is documented here.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import math
import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any


class KnobError(ValueError):
    """A knob (or setting) whose environment value is unusable; maps to exit status 2."""

    def __init__(self, variable: str, value: str, reason: str) -> None:
        self.variable = variable
        self.value = value
        self.reason = reason
        if value:
            super().__init__(f"{variable}={value!r} is invalid: {reason}")
        else:
            super().__init__(f"{variable} is not set: {reason}")


# ---------------------------------------------------------------------------- parsers

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("must be true or false")


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False
           ) -> Callable[[str], float]:
    """A float parser with an inclusive (or open-below) range, named in its error text."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        if low is not None and (value <= low if low_open else value < low):
            raise ValueError(f"must be {'>' if low_open else '>='} {low:g}")
        if high is not None and value > high:
            raise ValueError(f"must be <= {high:g}")
        return value

    return parse


def integer(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be an integer") from None


def non_negative_integer(raw: str) -> int:
    value = integer(raw)
    if value < 0:
        raise ValueError("must be an integer >= 0")
    return value


def positive_integer(raw: str) -> int:
    value = integer(raw)
    if value < 1:
        raise ValueError("must be an integer >= 1")
    return value


@dataclass(frozen=True)
class ErrorBursts:
    """``<rate>/<on_s>/<period_s>``: error probability during the first ``on_s`` seconds of
    every ``period_s`` window aligned to the Unix epoch."""

    rate: float
    on_s: float
    period_s: float

    def __str__(self) -> str:
        return f"{self.rate:g}/{self.on_s:g}/{self.period_s:g}"

    def rate_at(self, epoch_s: float) -> float:
        """The error probability at wall-clock ``epoch_s``: pods that share the value burst
        together, as a flaky dependency hits every version at once."""
        return self.rate if epoch_s % self.period_s < self.on_s else 0.0


def parse_error_bursts(raw: str) -> ErrorBursts:
    parts = raw.split("/")
    if len(parts) != 3:
        raise ValueError("must be <rate>/<on_s>/<period_s>, e.g. 0.2/5/60")
    rate = number(0, 1)(parts[0])
    on_s = number(0, low_open=True)(parts[1])
    period_s = number(0, low_open=True)(parts[2])
    if on_s > period_s:
        raise ValueError("on_s must not exceed period_s")
    return ErrorBursts(rate, on_s, period_s)


def knob(env: str, example: str, parse: Callable[[str], Any], default: Any = None) -> Any:
    """Declare a knob: its variable, an example value for documentation, and its parser."""
    return field(default=default, metadata={"env": env, "example": example, "parse": parse})


# ------------------------------------------------------------------------------ knobs


@dataclass(frozen=True)
class FaultKnobs:
    """Faults a release of the bot can carry; the defaults are a healthy bot."""

    error_rate: float = knob("FAULT_ERROR_RATE", "0.03", number(0, 1), 0.0)
    """Probability (0..1) that an /api/ request answers 500 instead of doing its work."""

    latency_ms: float = knob("FAULT_LATENCY_MS", "300", number(0), 0.0)
    """Fixed latency in milliseconds added to every /api/ request."""

    latency_jitter_ms: float = knob("FAULT_LATENCY_JITTER_MS", "100", number(0), 0.0)
    """Extra uniform random latency 0..J milliseconds on top of FAULT_LATENCY_MS."""

    slowdown_factor: float = knob("FAULT_SLOWDOWN_FACTOR", "3", number(0, low_open=True), 1.0)
    """Multiplies the signal route's inference time (BOT_SIGNAL_BASE_MS): "new version 3x slower"."""

    stall_every_s: float | None = knob("FAULT_STALL_EVERY_S", "10", number(0, low_open=True))
    """Period of server-wide stalls (like a GC pause); needs FAULT_STALL_S. Stall k starts k*N s after start."""

    stall_s: float | None = knob("FAULT_STALL_S", "2", number(0, low_open=True))
    """Length of each stall: every /api/ request arriving or in flight waits until the stall ends."""

    never_ready: bool = knob("FAULT_NEVER_READY", "true", parse_bool, False)
    """The model never finishes loading: /ready answers 503 forever (model check false)."""

    crash_at_start: bool = knob("FAULT_CRASH_AT_START", "true", parse_bool, False)
    """The process exits with status 1 about 0.2 s after start, before listening (CrashLoopBackOff)."""

    memory_growth_mb_per_s: float = knob("FAULT_MEMORY_GROWTH_MB_PER_S", "20", number(0), 0.0)
    """Allocate and keep this many MB per second, touching every page so RSS really grows (OOMKill)."""

    memory_growth_cap_mb: float = knob(
        "FAULT_MEMORY_GROWTH_CAP_MB", "512", number(0, low_open=True), 2048.0)
    """Safety ceiling for FAULT_MEMORY_GROWTH_MB_PER_S: growth stops after this many MB (default 2048)."""

    disk_free_percent: float | None = knob("FAULT_DISK_FREE_PERCENT", "5", number(0, 100))
    """Overrides the free-disk reading of /data in /metrics (percent of size): simulated disk pressure."""

    liveness_fail_after_s: float | None = knob("FAULT_LIVENESS_FAIL_AFTER_S", "30", number(0))
    """After this many seconds /health answers 500: a liveness failure the kubelet restarts."""

    seed: int | None = knob("FAULT_SEED", "42", integer)
    """Seed of the fault random generator, for reproducible error injection and jitter."""

    error_bursts: ErrorBursts | None = knob(  # noqa: RUF009 - a field(), like the others
        "FAULT_ERROR_BURSTS", "0.2/5/60", parse_error_bursts)
    """Value <rate>/<on_s>/<period_s>: during the first on_s seconds of every period_s window aligned to the Unix epoch, /api/ requests fail with probability rate; pods with the same value burst at the same moments."""

    signal_flip: float = knob("FAULT_SIGNAL_FLIP", "0.2", number(0, 1), 0.0)
    """Fraction (0..1) of market bars whose signal the decision loop inverts (BUY<->SELL, HOLD stays HOLD); chosen per bar by a fixed low-discrepancy rule, so the fraction is exact over many bars."""

    trade_multiplier: int = knob("FAULT_TRADE_MULTIPLIER", "3", positive_integer, 1)
    """Orders the decision loop places per actionable signal (3 -> three times the trade rate)."""

    order_size_multiplier: float = knob(
        "FAULT_ORDER_SIZE_MULTIPLIER", "10", number(0, low_open=True), 1.0)
    """Multiplies the volume of every order the decision loop places (10 -> orders ten times too large)."""

    fill_slippage_bps: float = knob("FAULT_FILL_SLIPPAGE_BPS", "50", number(0), 0.0)
    """Every fill of the decision loop's limit orders is worse than its limit by this many basis points."""

    ignore_kill_switch: bool = knob("FAULT_IGNORE_KILL_SWITCH", "true", parse_bool, False)
    """The kill switch answers 'halted' but the bot cancels nothing and keeps placing orders (the record and orders_since_halt show it)."""

    ignore_flags: bool = knob("FAULT_IGNORE_FLAGS", "true", parse_bool, False)
    """The bot keeps the first value it evaluated for each feature flag and ignores every later change (a kill switch that does not work)."""

    variant_skew: bool = knob("FAULT_VARIANT_SKEW", "true", parse_bool, False)
    """Every signal request gets variant A of the A/B flag, whatever split the flag server holds (an experiment whose split is ignored)."""

    response_padding_bytes: int = knob("FAULT_RESPONSE_PADDING_BYTES", "20000", non_negative_integer, 0)
    """Every /api/ JSON response body gains a "padding" string of this many bytes: a release whose network I/O per request left its baseline."""

    @property
    def stalls(self) -> bool:
        return self.stall_every_s is not None and self.stall_s is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultKnobs:
        """Read every knob; raise :class:`KnobError` naming the first bad variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"], "").strip()
            if not raw:
                continue
            try:
                values[f.name] = f.metadata["parse"](raw)
            except ValueError as exc:
                raise KnobError(f.metadata["env"], raw, str(exc)) from None
        knobs = cls(**values)
        knobs._check_stall_pair(env)
        return knobs

    def _check_stall_pair(self, env: Mapping[str, str]) -> None:
        # A half-configured stall would silently do nothing; refuse it instead.
        if (self.stall_every_s is None) != (self.stall_s is None):
            missing, given = (
                ("FAULT_STALL_S", "FAULT_STALL_EVERY_S") if self.stall_s is None
                else ("FAULT_STALL_EVERY_S", "FAULT_STALL_S"))
            raise KnobError(given, env.get(given, ""), f"needs {missing} as well")
        if self.stalls and self.stall_s >= self.stall_every_s:  # type: ignore[operator]
            raise KnobError("FAULT_STALL_S", env.get("FAULT_STALL_S", ""),
                            "must be shorter than FAULT_STALL_EVERY_S")

    def active(self) -> dict[str, Any]:
        """The knobs that differ from a healthy bot, by variable name (for the start log)."""
        return {
            f.metadata["env"]: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != f.default and f.name != "memory_growth_cap_mb"
        }


@cache
def _attribute_docs() -> dict[str, str]:
    """Attribute docstrings of :class:`FaultKnobs`, so the meaning is written only once."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(FaultKnobs)))
    except (OSError, TypeError):  # installed without sources: names and examples still list
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in itertools.pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def describe() -> list[dict[str, str]]:
    """Every knob as ``{"name", "meaning", "example", "default"}``, in declaration order."""
    docs = _attribute_docs()
    return [
        {
            "name": f.metadata["env"],
            "meaning": docs.get(f.name, ""),
            "example": f.metadata["example"],
            "default": "unset" if f.default is None else str(f.default).lower(),
        }
        for f in fields(FaultKnobs)
    ]
