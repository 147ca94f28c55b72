"""Binds the §6 rollback features; the steps live in steps/rollout.py."""

from pytest_bdd import scenarios

scenarios("rollback")
