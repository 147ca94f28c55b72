"""Progress output: live on a terminal, sparse one-liners in CI, nothing when switched off."""

from __future__ import annotations

import io

import pytest

from goldgate.report.progress import Progress, Reading, detect_mode
from goldgate.verdict import Verdict


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mode_follows_ci_and_tty() -> None:
    assert detect_mode(Tty(), {}) == "live"
    assert detect_mode(Tty(), {"CI": "true"}) == "quiet"
    assert detect_mode(io.StringIO(), {}) == "quiet"
    assert detect_mode(Tty(), {"GOLDGATE_PROGRESS": "off"}) == "off"
    assert detect_mode(io.StringIO(), {"GOLDGATE_PROGRESS": "live"}) == "live"


def test_quiet_mode_prints_at_most_once_per_interval() -> None:
    out, clock = io.StringIO(), FakeClock()
    with Progress("monitoring", total_s=7200, stream=out, mode="quiet", interval_s=60, clock=clock) as p:
        for _ in range(600):  # ten minutes of one-second updates
            clock.now += 1
            p.update(Reading("error rate", 0.004, 0.01), Reading("p95 latency", 212.0, 500.0, "ms"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[monitoring] started for 2:00:00"
    assert len(lines) == 1 + 10 + 1  # start, one per minute, end
    assert lines[5] == ("[monitoring] 05:00/2:00:00 | remaining 1:55:00 | error rate 0.004 (<= 0.01) ok"
                        " | p95 latency 212 ms (<= 500 ms) ok")
    assert lines[-1].endswith("— done")
    assert "\r" not in out.getvalue()


def test_live_mode_rewrites_one_line_and_flags_a_breach() -> None:
    out, clock = Tty(), FakeClock()
    p = Progress("canary 10 %", total_s=1800, stream=out, mode="live", clock=clock)
    p.start()
    clock.now += 30
    p.update(Reading("error rate", 0.034, 0.01))
    clock.now += 0.1
    p.update(Reading("error rate", 0.035, 0.01))  # within refresh_s: not redrawn
    text = out.getvalue()
    assert text.count("\r") == 1 and "\n" not in text
    assert "00:30/30:00 | remaining 29:30 | error rate 0.034 (<= 0.01) BREACH" in text
    p.note("breach: rolling back")
    assert out.getvalue().endswith("[canary 10 %] breach: rolling back\n")


def test_count_bound_runs_estimate_remaining_from_done() -> None:
    out, clock = io.StringIO(), FakeClock()
    p = Progress("load", stream=out, mode="quiet", clock=clock)
    p.start()
    clock.now += 30
    assert p.remaining() is None
    p.update(done=0.25)
    assert p.remaining() == pytest.approx(90.0)
    assert "25%" in p.line()


def test_off_mode_is_silent() -> None:
    out = Tty()
    with Progress("x", total_s=1, stream=out, mode="off") as p:
        p.update(Reading("a", 1, 2), force=True)
        p.note("n")
    assert out.getvalue() == ""


def test_reading_from_verdict_and_direction() -> None:
    r = Reading.from_verdict(Verdict.failed("free disk", 0.04, 0.10, "low", unit=""))
    assert (r.name, r.value, r.threshold) == ("free disk", 0.04, 0.10)
    assert Reading("free disk", 0.04, 0.10, op=">=").ok is False
    assert Reading("free disk", 0.5, 0.10, op=">=").ok is True
    assert Reading("x", None, 1.0).render() == "x n/a (<= 1)"
