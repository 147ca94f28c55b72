"""Binds the §4.2 flag-server feature; the steps live in steps/flags.py."""

from pytest_bdd import scenarios

scenarios("configuration/flag_server.feature")
