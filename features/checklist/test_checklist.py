"""Binds the §1 pre-deployment checklist features; the steps live in steps/."""

from pytest_bdd import scenarios

scenarios("checklist")
