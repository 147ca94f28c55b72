import pytest

from trading_bot.risk import RiskLimits, daily_loss_breached, position_size


def test_one_percent_risk_sizes_the_position():
    assert position_size(100_000, 10.0, RiskLimits()) == 1.0


def test_size_is_clamped_to_limits():
    limits = RiskLimits(max_lots=0.5)
    assert position_size(1_000_000, 1.0, limits) == 0.5
    assert position_size(10, 50.0, limits) == 0.01


@pytest.mark.parametrize("equity,stop", [(0, 1.0), (1000, 0)])
def test_bad_inputs_are_refused(equity, stop):
    with pytest.raises(ValueError):
        position_size(equity, stop, RiskLimits())


def test_limits_are_validated():
    with pytest.raises(ValueError):
        RiskLimits(risk_per_trade=0.2)
    with pytest.raises(ValueError):
        RiskLimits(min_lots=2, max_lots=1)


def test_daily_loss():
    assert daily_loss_breached(-3000, 100_000, 0.03)
    assert not daily_loss_breached(-100, 100_000, 0.03)
    assert not daily_loss_breached(500, 100_000, 0.03)
