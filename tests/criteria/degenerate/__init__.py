"""Degenerate inputs for every registered criterion, one module per area.

Each module here exports ``CASES``: a mapping from a registry key (``module.function``
below ``goldgate.criteria``) to a hypothesis strategy that draws ``(args, kwargs)`` for
that function, built from empty, zero-sample, NaN, ±inf, negative, missing or malformed
values. ``tests/criteria/test_registry.py`` calls the criterion with every draw and
asserts that none of them yields PASS.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def all_cases() -> dict[str, Any]:
    cases: dict[str, Any] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for key, strategy in getattr(module, "CASES", {}).items():
            if key in cases:
                raise AssertionError(f"{key}: degenerate cases defined twice ({info.name})")
            cases[key] = strategy
    return cases
