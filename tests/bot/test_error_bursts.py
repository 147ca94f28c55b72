"""FAULT_ERROR_BURSTS: epoch-aligned bursts of errors, the same moments for every pod with the value."""

from __future__ import annotations

import pytest

from goldgate.sandbox.bot.knobs import ErrorBursts, FaultKnobs, KnobError


def test_the_value_reads_as_rate_on_and_period() -> None:
    assert FaultKnobs.from_env({"FAULT_ERROR_BURSTS": "0.2/5/60"}).error_bursts == ErrorBursts(0.2, 5.0, 60.0)
    assert FaultKnobs.from_env({}).error_bursts is None


@pytest.mark.parametrize("raw", ["0.2/5", "1.5/5/60", "0.2/0/60", "0.2/70/60", "x/5/60", "0.2/5/-1"])
def test_a_bad_value_names_the_variable(raw: str) -> None:
    with pytest.raises(KnobError, match="FAULT_ERROR_BURSTS"):
        FaultKnobs.from_env({"FAULT_ERROR_BURSTS": raw})


def test_bursts_open_at_the_same_epoch_moments_for_every_pod() -> None:
    a = FaultKnobs.from_env({"FAULT_ERROR_BURSTS": "1/5/60", "FAULT_SEED": "1"}).error_bursts
    b = FaultKnobs.from_env({"FAULT_ERROR_BURSTS": "1/5/60", "FAULT_SEED": "2"}).error_bursts
    assert a is not None and b is not None
    for t, inside in ((1_800_000_000.0, True), (1_800_000_004.9, True), (1_800_000_005.1, False),
                      (1_800_000_059.0, False), (1_800_000_060.5, True)):
        assert (a.rate_at(t) == 1.0) is inside and (b.rate_at(t) == 1.0) is inside
