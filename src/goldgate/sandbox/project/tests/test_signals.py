import pytest

from trading_bot.signals import crossover, moving_average


def test_moving_average_of_last_window():
    assert moving_average([1, 2, 3, 4], 2) == 3.5


def test_moving_average_needs_enough_prices():
    with pytest.raises(ValueError):
        moving_average([1.0], 2)
    with pytest.raises(ValueError):
        moving_average([1.0], 0)


def test_rising_prices_buy():
    prices = [2300.0 + i for i in range(20)]
    assert crossover(prices).action == "BUY"


def test_falling_prices_sell():
    prices = [2400.0 - i for i in range(20)]
    assert crossover(prices).action == "SELL"


def test_flat_prices_hold():
    assert crossover([2350.0] * 20).action == "HOLD"
