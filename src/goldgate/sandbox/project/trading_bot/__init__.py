"""XAUUSD paper-trading bot: signal model, risk limits and order sizing."""

__version__ = "1.2.0"
