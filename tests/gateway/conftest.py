"""The in-process API server fixture of the sandbox tests, shared with the gateway tests."""

from tests.sandbox.conftest import api  # noqa: F401 - a fixture, used by name
