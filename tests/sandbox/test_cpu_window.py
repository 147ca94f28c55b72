"""The sandbox's CPU reading is a rate over metrics.k8s.io's window, as metrics-server serves it.

Served per 1 s sample, a bot on a busy CI machine read 70.5 % of its limit in one sample (a
§8.3 alert); metrics-server serves the rate over its window."""

from __future__ import annotations

import pytest

from goldgate.sandbox.controllers.cpuwindow import CpuWindow


def test_a_one_second_catch_up_burst_is_averaged_over_the_window() -> None:
    w = CpuWindow()
    w.add(0.0, 0.0)  # the first sample starts the clock
    for t in range(1, 15):
        w.add(float(t), 0.05)  # a quiet bot: 5 % of a core
    mean = w.add(15.0, 0.75)  # one second of backlog at 75 %
    assert mean == pytest.approx((14 * 0.05 + 0.75) / 15)
    assert mean < 0.1  # far below the 70 % alert a 1 s sample would have raised


def test_a_sustained_load_reaches_its_rate_and_old_samples_leave_the_window() -> None:
    w = CpuWindow(seconds=15)
    w.add(0.0, 0.0)
    for t in range(1, 31):
        w.add(float(t), 0.1 if t <= 15 else 0.9)
    assert w.mean() == pytest.approx(0.9)  # only the last 15 s count


def test_uneven_sample_intervals_are_weighted_by_their_length() -> None:
    w = CpuWindow()
    w.add(0.0, 0.0)
    w.add(3.0, 0.2)  # a sample delayed on a busy machine covers 3 s
    assert w.add(4.0, 0.6) == pytest.approx((3 * 0.2 + 0.6) / 4)


def test_nothing_measured_reads_zero_and_odd_inputs_do_not_corrupt_the_mean() -> None:
    w = CpuWindow()
    assert w.mean() == 0.0
    assert w.add(5.0, 0.9) == 0.0  # the first sample covers no known interval
    assert w.add(5.0, 0.9) == 0.0  # no time passed: nothing to weigh
    assert w.add(4.0, 0.9) == 0.0  # the clock went back: ignored
    assert w.add(6.0, -1.0) == 0.0  # a negative rate is read as none
    with pytest.raises(ValueError, match="positive number of seconds"):
        CpuWindow(seconds=0)
