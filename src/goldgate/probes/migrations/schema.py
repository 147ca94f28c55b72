"""What a database's schema is, as plain data, so two moments of one walk can be compared.

"Reversible" means the downgrade puts the schema back exactly: the same tables, columns
(type, nullability, server default), primary keys, foreign keys, indexes, unique and check
constraints. A downgrade that "succeeds" but leaves an index behind is a defect the next
upgrade trips over in production, so every one of those is part of the snapshot.
Constraint names are compared where the database reports them; alembic's own version
table is not part of the schema.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Schema", "diff", "snapshot"]

Schema = dict[str, dict[str, Any]]


def _type(col: dict[str, Any], dialect: Any) -> str:
    try:
        return str(col["type"].compile(dialect=dialect)).upper()
    except Exception:  # a reflected type the dialect cannot render: compare its repr
        return repr(col["type"])


def _sql(text: Any) -> str | None:
    return None if text is None else re.sub(r"\s+", " ", str(text)).strip()


def _table(insp: Any, table: str, dialect: Any, schema: str | None = None) -> dict[str, Any]:
    columns = {c["name"]: (_type(c, dialect), bool(c["nullable"]), _sql(c.get("default")))
               for c in insp.get_columns(table, schema=schema)}
    pk = tuple(insp.get_pk_constraint(table, schema=schema).get("constrained_columns") or ())
    fks = sorted((tuple(f["constrained_columns"]), f.get("referred_table") or "", tuple(f["referred_columns"]),
                  str(sorted((f.get("options") or {}).items())))
                 for f in insp.get_foreign_keys(table, schema=schema))
    indexes = sorted((i.get("name") or "", tuple(str(c) for c in i["column_names"]), bool(i.get("unique")))
                     for i in insp.get_indexes(table, schema=schema))
    uniques = sorted((u.get("name") or "", tuple(u["column_names"]))
                     for u in insp.get_unique_constraints(table, schema=schema))
    try:
        checks = sorted(_sql(c["sqltext"]) or "" for c in insp.get_check_constraints(table, schema=schema))
    except NotImplementedError:
        checks = []
    return {"columns": columns, "primary key": pk, "foreign keys": fks, "indexes": indexes,
            "unique constraints": uniques, "check constraints": checks}


def _sqlite_ddl(conn: Any) -> dict[str, tuple[Any, ...]]:
    """Table -> its CREATE TABLE text and its indexes' texts: on SQLite that text *is* the schema."""
    ddl: dict[str, list[Any]] = {}
    for kind, name, table, sql in conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')"):
        ddl.setdefault(table, []).append((kind, name, sql))
    return {table: tuple(sorted(parts, key=str)) for table, parts in ddl.items()}


def snapshot(conn: Any, skip: frozenset[str] = frozenset({"alembic_version"}),
             cache: dict[Any, dict[str, Any]] | None = None, schemas: list[str] | tuple[str, ...] = ()) -> Schema:
    """The schema visible on ``conn`` (its default schema), table by table.

    ``schemas`` adds named schemas (PostgreSQL), their tables keyed ``schema.table``: a
    project that keeps its tables or alembic's version table in a schema of its own
    (``version_table_schema``) is compared there too.

    ``cache`` (SQLite only) keeps each table's reflection under its DDL text, so a walk
    re-reflects only the tables a step changed; any change to the text reflects again.
    """
    from sqlalchemy import inspect

    insp = inspect(conn)
    ddl = _sqlite_ddl(conn) if cache is not None and conn.dialect.name == "sqlite" else None
    out: Schema = {}
    for table in sorted(insp.get_table_names()):
        if table in skip:
            continue
        key = (table, ddl.get(table)) if ddl is not None else None
        if key is not None and cache is not None and key in cache:
            out[table] = cache[key]
            continue
        out[table] = _table(insp, table, conn.dialect)
        if key is not None and cache is not None:
            cache[key] = out[table]
    for schema in schemas:
        for table in sorted(insp.get_table_names(schema=schema)):
            if f"{schema}.{table}" not in skip:
                out[f"{schema}.{table}"] = _table(insp, table, conn.dialect, schema)
    return out


def _column_text(value: tuple[str, bool, str | None]) -> str:
    kind, nullable, default = value
    return f"{kind} {'NULL' if nullable else 'NOT NULL'}" + (f" DEFAULT {default}" if default else "")


_PARTS = {"foreign keys": "foreign key", "indexes": "index", "unique constraints": "unique constraint",
          "check constraints": "check constraint"}


def diff(expected: Schema, actual: Schema) -> list[str]:
    """Every difference between two snapshots, as a reader would say it (empty when equal)."""
    out: list[str] = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            out.append(f"table {table} missing")
            continue
        if table not in expected:
            out.append(f"table {table} left behind")
            continue
        e, a = expected[table], actual[table]
        for col in sorted(set(e["columns"]) | set(a["columns"])):
            if col not in a["columns"]:
                out.append(f"{table}.{col} missing")
            elif col not in e["columns"]:
                out.append(f"{table}.{col} left behind")
            elif e["columns"][col] != a["columns"][col]:
                out.append(f"{table}.{col} is {_column_text(a['columns'][col])}, "
                           f"expected {_column_text(e['columns'][col])}")
        if e["primary key"] != a["primary key"]:
            out.append(f"{table} primary key {list(a['primary key'])}, expected {list(e['primary key'])}")
        for part, one in _PARTS.items():
            gone = [x for x in e[part] if x not in a[part]]
            extra = [x for x in a[part] if x not in e[part]]
            out += [f"{table} {one} {_describe(x)} missing" for x in gone]
            out += [f"{table} {one} {_describe(x)} left behind" for x in extra]
    return out


def _describe(item: Any) -> str:
    if isinstance(item, tuple) and len(item) == 4 and isinstance(item[1], str):  # foreign key
        return f"({', '.join(item[0])}) -> {item[1]}({', '.join(item[2])})"
    if isinstance(item, tuple) and len(item) == 3:  # index
        return f"{item[0] or '(unnamed)'} ({', '.join(item[1])}){' unique' if item[2] else ''}"
    if isinstance(item, tuple) and len(item) == 2:  # unique constraint
        return f"{item[0] or '(unnamed)'} ({', '.join(item[1])})"
    return str(item)
