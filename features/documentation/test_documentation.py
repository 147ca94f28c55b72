"""Binds the §10 documentation features; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("documentation")
