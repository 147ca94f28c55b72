"""The registry of every criterion: what each one decides and the least evidence it needs.

A criterion that can pass on nothing is the most expensive defect a release gate can
have, so every public decision function of ``goldgate.criteria`` is declared here with
:func:`criterion`. goldgate's own tests walk the package, fail on any Verdict-returning
function that is not registered, and feed every registered one its degenerate inputs
(empty, zero samples, NaN, ±inf, negative, missing fields) to prove none of them yields
PASS. The ``needs`` sentence is the criterion's minimum evidence, shown in README's table
and readable at run time (``goldgate.criteria.registry.all_criteria()``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["CriterionSpec", "all_criteria", "criterion"]


@dataclass(frozen=True)
class CriterionSpec:
    """One registered decision: ``key`` is ``module.function`` below ``goldgate.criteria``."""

    key: str
    needs: str
    func: Callable[..., Any]


_REGISTRY: dict[str, CriterionSpec] = {}


def key_of(func: Callable[..., Any]) -> str:
    return f"{func.__module__.removeprefix('goldgate.criteria.')}.{func.__qualname__}"


def criterion(needs: str) -> Callable[[F], F]:
    """Declare a decision function and the minimum evidence below which it never passes."""
    if not needs.strip():
        raise ValueError("a criterion must say what evidence it needs")

    def register(func: F) -> F:
        key = key_of(func)
        _REGISTRY[key] = CriterionSpec(key, needs.strip(), func)
        func.criterion_needs = needs.strip()  # type: ignore[attr-defined]
        return func

    return register


def all_criteria() -> dict[str, CriterionSpec]:
    """Every registered criterion, after importing every module of the package."""
    import goldgate.criteria as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))
