"""Progress of long runs — canary phases, monitoring windows, load — for people and for CI.

A two-hour monitoring window (guide §5.2) with no output looks hung; the same window
printing a line per second buries a CI log. So there are three modes, picked from the
surroundings unless the caller says otherwise:

* ``live``  — stdout is a terminal and ``CI`` is not set: one line rewritten in place
  with elapsed / remaining time and each current value against its threshold;
* ``quiet`` — ``CI`` is set or stdout is not a terminal: a plain one-liner at most every
  ``interval_s`` (default 60 s, ``GOLDGATE_PROGRESS_INTERVAL``), plus start and end lines;
* ``off``   — ``GOLDGATE_PROGRESS=off``: nothing.

The API is one class and one value type::

    from goldgate.report.progress import Progress, Reading

    with Progress("canary 10 %", total_s=phase_s) as progress:
        while not done:
            ...
            progress.update(
                Reading("error rate", 0.004, 0.01, unit="", op="<="),
                Reading("p95 latency", 212.0, 500.0, unit="ms"),
            )
        progress.note("phase passed, raising weight to 50 %")

``update()`` is cheap to call often: it redraws at most ``refresh_s`` apart (live) or
prints at most every ``interval_s`` (quiet). ``done=`` takes a fraction for runs bounded
by a count rather than time (requests sent of the cap). A verdict can be shown directly
with ``Reading.from_verdict(verdict)``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from goldgate.report.redact import redact

Mode = Literal["live", "quiet", "off"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda v, t: v <= t,
    "<": lambda v, t: v < t,
    ">=": lambda v, t: v >= t,
    ">": lambda v, t: v > t,
}


@dataclass(frozen=True)
class Reading:
    """A current value beside the threshold it is held to; ``op`` says which side is good."""

    name: str
    value: float | None
    threshold: float | None = None
    unit: str = ""
    op: str = "<="

    @classmethod
    def from_verdict(cls, verdict: Any) -> Reading:
        def num(x: Any) -> float | None:
            return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None

        return cls(verdict.criterion, num(verdict.observed), num(verdict.threshold), verdict.unit)

    @property
    def ok(self) -> bool | None:
        if self.value is None or self.threshold is None or self.op not in _OPS:
            return None
        return _OPS[self.op](self.value, self.threshold)

    def render(self) -> str:
        value = "n/a" if self.value is None else f"{self.value:.4g}"
        text = f"{self.name} {value}{(' ' + self.unit) if self.unit and self.value is not None else ''}"
        if self.threshold is not None:
            text += f" ({self.op} {self.threshold:.4g}{(' ' + self.unit) if self.unit else ''})"
        mark = {True: " ok", False: " BREACH", None: ""}[self.ok]
        return text + mark


def detect_mode(stream: TextIO, environ: dict[str, str] | None = None) -> Mode:
    env = os.environ if environ is None else environ
    if env.get("GOLDGATE_PROGRESS", "").lower() in ("off", "0", "no", "false"):
        return "off"
    if env.get("GOLDGATE_PROGRESS", "").lower() in ("quiet", "live"):
        return env["GOLDGATE_PROGRESS"].lower()  # type: ignore[return-value]
    if env.get("CI"):
        return "quiet"
    try:
        return "live" if stream.isatty() else "quiet"
    except (AttributeError, ValueError):
        return "quiet"


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Elapsed, remaining and current readings of one bounded activity."""

    def __init__(
        self,
        title: str,
        total_s: float | None = None,
        *,
        stream: TextIO | None = None,
        mode: Mode | None = None,
        interval_s: float | None = None,
        refresh_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title = title
        self.total_s = total_s
        self.stream = stream if stream is not None else sys.stdout
        self.mode: Mode = mode or detect_mode(self.stream)
        env_interval = os.environ.get("GOLDGATE_PROGRESS_INTERVAL")
        self.interval_s = interval_s if interval_s is not None else float(env_interval or 60.0)
        self.refresh_s = refresh_s
        self._clock = clock
        self._start = clock()
        self._last_out = float("-inf")
        self._readings: dict[str, Reading] = {}
        self._done: float | None = None
        self._live_width = 0

    # -- context manager: start and end lines ------------------------------------------
    def __enter__(self) -> Progress:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish("interrupted" if exc[0] is not None else "done")

    def start(self) -> None:
        self._start = self._clock()
        if self.mode == "quiet":
            total = f" for {_clock(self.total_s)}" if self.total_s else ""
            self._print(f"[{self.title}] started{total}")
            self._last_out = self._start

    # -- the calls a long-running loop makes -------------------------------------------
    def update(self, *readings: Reading, done: float | None = None, force: bool = False) -> None:
        for reading in readings:
            self._readings[reading.name] = reading
        if done is not None:
            self._done = max(0.0, min(1.0, done))
        now = self._clock()
        if self.mode == "live" and (force or now - self._last_out >= self.refresh_s):
            self._draw_live(self.line(now))
            self._last_out = now
        elif self.mode == "quiet" and (force or now - self._last_out >= self.interval_s):
            self._print(self.line(now))
            self._last_out = now

    def note(self, text: str) -> None:
        """A permanent line (a phase change, a decision); shown in live and quiet modes."""
        if self.mode == "off":
            return
        self._clear_live()
        self._print(f"[{self.title}] {text}")

    def finish(self, outcome: str = "done") -> None:
        if self.mode == "off":
            return
        line = self.line(self._clock())
        self._clear_live()
        self._print(f"{line} — {outcome}")

    # -- rendering ----------------------------------------------------------------------
    def elapsed(self, now: float | None = None) -> float:
        return (self._clock() if now is None else now) - self._start

    def remaining(self, now: float | None = None) -> float | None:
        elapsed = self.elapsed(now)
        if self.total_s:
            return max(0.0, self.total_s - elapsed)
        if self._done:
            return elapsed * (1 - self._done) / self._done
        return None

    def line(self, now: float | None = None) -> str:
        elapsed = self.elapsed(now)
        remaining = self.remaining(now)
        parts = [f"[{self.title}] {_clock(elapsed)}"]
        if self.total_s:
            parts[0] += f"/{_clock(self.total_s)}"
        if remaining is not None:
            parts.append(f"remaining {_clock(remaining)}")
        if self._done is not None:
            parts.append(f"{self._done:.0%}")
        parts += [r.render() for r in self._readings.values()]
        return " | ".join(parts)

    def _draw_live(self, text: str) -> None:
        pad = max(0, self._live_width - len(text))
        self.stream.write("\r" + redact(text) + " " * pad)
        self.stream.flush()
        self._live_width = len(text)

    def _clear_live(self) -> None:
        if self.mode == "live" and self._live_width:
            self.stream.write("\r" + " " * self._live_width + "\r")
            self._live_width = 0

    def _print(self, text: str) -> None:
        self.stream.write(redact(text) + "\n")
        self.stream.flush()
