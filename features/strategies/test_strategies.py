"""Binds the §2 deployment-strategy features; the steps live in steps/rollout.py."""

from pytest_bdd import scenarios

scenarios("strategies")
