from trading_bot.orders import OrderRequest, fill_price, validate


def test_valid_order_has_no_problems():
    assert validate(OrderRequest("XAUUSD", "BUY", 0.1, "abc")) == []


def test_every_problem_is_reported():
    problems = validate(OrderRequest("EURUSD", "HOLD", 0, "x" * 65))
    assert len(problems) == 4


def test_fill_price_crosses_the_spread():
    assert fill_price("BUY", 2350.0, 0.4) == 2350.2
    assert fill_price("SELL", 2350.0, 0.4) == 2349.8
