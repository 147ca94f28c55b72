"""Binds the §9.3 region failover drill; the steps live in steps/failover.py."""

from pytest_bdd import scenarios

scenarios("recovery/failover.feature")
