"""Binds the §9 recovery features and their rehearsals; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("recovery/recovery.feature")
scenarios("recovery/recovery_rehearsals.feature")
