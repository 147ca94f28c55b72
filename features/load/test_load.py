"""Binds the load features (guide §5.2, §6.1, §8.1); the steps live in steps/load.py."""

from pytest_bdd import scenarios

scenarios("load")
