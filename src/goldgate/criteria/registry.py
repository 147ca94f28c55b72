"""The registry of every criterion: what each one decides and the least evidence it needs.

A criterion that can pass on nothing is the most expensive defect a release gate can
have, so every public decision function of ``goldgate.criteria`` is declared here with
:func:`criterion`. goldgate's own tests walk the package, fail on any Verdict-returning
function that is not registered, and feed every registered one its degenerate inputs
(empty, zero samples, NaN, ±inf, negative, missing fields) to prove none of them yields
PASS. The ``needs`` sentence is the criterion's minimum evidence, shown in README's table
and readable at run time (``goldgate.criteria.registry.all_criteria()``).

``provenance="declared"`` marks a criterion whose evidence is a field the team wrote
(release.yaml's approvals, on-call names, a flag's killswitch) rather than a measurement:
every verdict it returns carries that provenance, so reports count it apart and an
environment's ``policy.require_measured`` can refuse to let it pass.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from goldgate.verdict import MEASURED, PROVENANCES, Verdict

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["CriterionSpec", "all_criteria", "criterion"]


@dataclass(frozen=True)
class CriterionSpec:
    """One registered decision: ``key`` is ``module.function`` below ``goldgate.criteria``."""

    key: str
    needs: str
    func: Callable[..., Any]
    provenance: str = MEASURED


_REGISTRY: dict[str, CriterionSpec] = {}


def key_of(func: Callable[..., Any]) -> str:
    return f"{func.__module__.removeprefix('goldgate.criteria.')}.{func.__qualname__}"


def _with_provenance(result: Any, provenance: str) -> Any:
    if isinstance(result, Verdict):
        return dataclasses.replace(result, provenance=provenance)
    if isinstance(result, list | tuple):
        return type(result)(_with_provenance(r, provenance) for r in result)
    return result


def criterion(needs: str, provenance: str = MEASURED) -> Callable[[F], F]:
    """Declare a decision function and the minimum evidence below which it never passes.

    ``provenance`` is where that evidence comes from (see the module docstring); a
    declared criterion's verdicts are all stamped ``declared``.
    """
    if not needs.strip():
        raise ValueError("a criterion must say what evidence it needs")
    if provenance not in PROVENANCES:
        raise ValueError(f"provenance {provenance!r} is not one of {PROVENANCES}")

    def register(func: F) -> F:
        target: Any = func
        if provenance != MEASURED:
            @functools.wraps(func)
            def stamped(*args: Any, **kwargs: Any) -> Any:
                return _with_provenance(func(*args, **kwargs), provenance)

            target = stamped
        key = key_of(func)
        _REGISTRY[key] = CriterionSpec(key, needs.strip(), target, provenance)
        target.criterion_needs = needs.strip()
        target.criterion_provenance = provenance
        return target  # type: ignore[no-any-return]

    return register


def all_criteria() -> dict[str, CriterionSpec]:
    """Every registered criterion, after importing every module of the package."""
    import goldgate.criteria as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))
