"""Binds the §9 recovery features; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("recovery/recovery.feature")
