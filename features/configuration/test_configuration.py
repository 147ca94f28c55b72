"""Binds the §4 configuration features; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("configuration/configuration.feature")
