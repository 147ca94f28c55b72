"""The project's SQLAlchemy models against the migrated schema, judged by alembic itself.

The comparison is ``alembic.autogenerate.compare_metadata`` — what ``alembic revision
--autogenerate`` would write — run on the scratch database at heads. goldgate only puts
its answer into words, and treats one pair as equal: a unique index and a unique
constraint over the same columns of a table (models often say ``unique=True`` where the
migration creates a unique index; both enforce the same rule on every backend).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.migrations.loading import project_sys_path
from goldgate.probes.migrations.results import ModelsComparison

__all__ = ["compare_models", "describe_difference", "load_models"]


def _under(module: Any, roots: list[str]) -> bool:
    file = getattr(module, "__file__", None) or ""
    return any(file.startswith(str(Path(root).resolve())) for root in roots)


def load_models(ref: str, roots: list[str]) -> Any:
    """The MetaData named ``module:attribute`` (a declarative base's ``.metadata`` is taken too).

    The module is imported with the project's folders first on ``sys.path``; its modules
    are dropped from ``sys.modules`` afterwards, so a second project with the same package
    name is not answered from the first one's cache.
    """
    from sqlalchemy import MetaData

    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ArtifactUnavailable(ref, "models must be named module:attribute, e.g. myapp.db:metadata")
    before = set(sys.modules)
    try:
        with project_sys_path(roots):
            try:
                obj: Any = importlib.import_module(module_name)
            except Exception as exc:  # the team's module: any import error is "cannot load"
                raise ArtifactUnavailable(ref, f"cannot import {module_name}: {type(exc).__name__}: "
                                               f"{str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
            for part in attribute.split("."):
                if not hasattr(obj, part):
                    raise ArtifactUnavailable(ref, f"{module_name} has no attribute {attribute}")
                obj = getattr(obj, part)
    finally:
        for name in set(sys.modules) - before:
            if _under(sys.modules[name], roots):
                del sys.modules[name]
    if not isinstance(obj, MetaData):
        obj = getattr(obj, "metadata", obj)
    if not isinstance(obj, MetaData):
        raise ArtifactUnavailable(ref, f"is a {type(obj).__name__}, not a SQLAlchemy MetaData")
    return obj


def _cols(item: Any) -> tuple[str, ...]:
    return tuple(getattr(c, "name", str(c)) for c in getattr(item, "columns", ()))


def _table(item: Any) -> str:
    table = getattr(item, "table", None)
    return getattr(table, "name", "?")


def _equivalent_uniques(diffs: list[Any]) -> list[Any]:
    """Drop unique index ↔ unique constraint pairs over the same columns (same rule enforced)."""
    flat = [d for d in diffs if isinstance(d, tuple)]
    dropped: set[int] = set()
    for i, a in enumerate(flat):
        for j, b in enumerate(flat):
            if i in dropped or j in dropped or i == j:
                continue
            pair = {a[0], b[0]}
            if pair in ({"remove_index", "add_constraint"}, {"add_index", "remove_constraint"}):
                index, constraint = (a[1], b[1]) if a[0].endswith("index") else (b[1], a[1])
                from sqlalchemy import UniqueConstraint

                if (getattr(index, "unique", False) and isinstance(constraint, UniqueConstraint)
                        and _table(index) == _table(constraint) and _cols(index) == _cols(constraint)):
                    dropped |= {i, j}
    keep = {id(d) for k, d in enumerate(flat) if k not in dropped}
    return [d for d in diffs if not isinstance(d, tuple) or id(d) in keep]


def describe_difference(d: Any) -> str:
    """One autogenerate difference in words: "add" = in the models only, "remove" = in the schema only."""
    if isinstance(d, list):
        return "; ".join(describe_difference(x) for x in d)
    kind = d[0]
    side = "in the models, not in the migrated schema" if kind.startswith("add") else \
        "in the migrated schema, not in the models"
    if kind in ("add_table", "remove_table"):
        return f"table {d[1].name} {side}"
    if kind in ("add_column", "remove_column"):
        return f"column {d[2]}.{d[3].name} {side}"
    if kind in ("add_index", "remove_index"):
        return f"index {d[1].name} on {_table(d[1])}({', '.join(_cols(d[1]))}) {side}"
    if kind in ("add_constraint", "remove_constraint"):
        return f"{type(d[1]).__name__} {d[1].name or ''} on {_table(d[1])}({', '.join(_cols(d[1]))}) {side}"
    if kind in ("add_fk", "remove_fk"):
        return f"foreign key {_table(d[1])}({', '.join(_cols(d[1]))}) {side}"
    if kind.startswith("modify_") and len(d) >= 7:
        return f"{d[2]}.{d[3]} {kind.removeprefix('modify_')}: migrated schema {d[5]}, models {d[6]}"
    return str(d)


def compare_models(db: Any, metadata: Any, ref: str) -> ModelsComparison:
    """Differences between ``metadata`` and the scratch database ``db`` (at heads)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = _equivalent_uniques(list(compare_metadata(context, metadata)))
    return ModelsComparison(ref, len(metadata.tables), [describe_difference(d) for d in diffs])
