"""goldgate: the production deployment guide of the XAUUSD trading bot as release gates."""

__version__ = "0.1.0"
