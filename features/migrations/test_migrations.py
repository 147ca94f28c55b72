"""Binds the §3 migration features; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("migrations")
