"""Hooks goldgate's pytest plugin offers to other plugins.

An environment file may name its targets symbolically (a kubeconfig, URLs, paths that
exist only once something has been started or built). A plugin that knows such a value
resolves it here, once per run, before any probe sees the environment: the library only
ever reads the concrete values a real environment carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from goldgate.config import Environment


@pytest.hookspec(firstresult=True)
def pytest_goldgate_resolve_environment(request: pytest.FixtureRequest,
                                        environment: Environment) -> Environment | None:
    """Return ``environment`` with every value this plugin resolves made concrete, or None.

    Called once, when the ``environment`` fixture is first requested. ``request`` is that
    session-scoped fixture's request: register teardown of what was started with
    ``request.addfinalizer``. The models are frozen; return copies (``model_copy``).
    """
