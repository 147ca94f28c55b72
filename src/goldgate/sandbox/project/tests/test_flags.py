import pytest

from trading_bot.flags import enabled


def test_defaults():
    assert enabled("order_idempotency", {}) is True
    assert enabled("adaptive_stop_loss", {}) is False


def test_killswitch_overrides_default():
    assert enabled("order_idempotency", {"FLAG_ORDER_IDEMPOTENCY": "off"}) is False
    assert enabled("adaptive_stop_loss", {"FLAG_ADAPTIVE_STOP_LOSS": "on"}) is True


def test_unknown_flag():
    with pytest.raises(KeyError):
        enabled("nope", {})
