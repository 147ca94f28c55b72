"""Binds the §8 monitoring features; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("monitoring")
