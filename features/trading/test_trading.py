"""Binds the trading canary features; the steps live in steps/trading.py and steps/rollout.py."""

from pytest_bdd import scenarios

scenarios("trading")
