"""Binds the §7.2 workload specification feature; the steps live in steps/spec.py."""

from pytest_bdd import scenarios

scenarios("configuration/workload_spec.feature")
