"""Paper-order storage: the bot's only SQL schema, defined here and nowhere else.

Table ``orders`` (the reference bot's migrations must produce exactly this):

================  ==============  =========================================================
column            type            notes
================  ==============  =========================================================
id                INTEGER         primary key, autoincrement
client_order_id   VARCHAR(64)     unique, nullable — idempotency key of the caller
symbol            VARCHAR(16)     not null, e.g. ``XAUUSD``
side              VARCHAR(4)      not null, ``BUY`` or ``SELL``
volume            FLOAT           not null, lots (> 0, enforced by the API)
price             FLOAT           not null, fill price
status            VARCHAR(16)     not null, ``FILLED`` for paper orders (only fills are stored;
                                  the decision loop's fills carry its order id, ``o-...``,
                                  as ``client_order_id``)
created_at        TIMESTAMP       not null, UTC without time zone
================  ==============  =========================================================

The table is created at start if missing (``create_all`` never alters an existing table).
SQLite is the default; a ``postgresql+psycopg://`` URL works unchanged. Access is
synchronous SQLAlchemy 2 Core run in a worker thread by the caller, which keeps the
event loop free while the database answers.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError

metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_order_id", String(64), unique=True, nullable=True),
    Column("symbol", String(16), nullable=False),
    Column("side", String(4), nullable=False),
    Column("volume", Float, nullable=False),
    Column("price", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False),
)

CONNECT_TIMEOUT_S = 2


class DuplicateOrderError(Exception):
    """``client_order_id`` already used; carries the stored order."""

    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__(existing.get("client_order_id"))
        self.existing = existing


def redacted(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def make_engine(url: str) -> Engine:
    """An engine with bounded connect time; raises ``ArgumentError`` on a bad URL."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_wal)
    return engine


def _sqlite_wal(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readiness checks read while an order is being written.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


@dataclass
class OrderStore:
    engine: Engine
    schema_ready: bool = False
    _schema_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure_schema(self) -> None:
        """Create ``orders`` if missing; idempotent, retried by the readiness check."""
        if self.schema_ready:
            return
        with self._schema_lock:
            if not self.schema_ready:
                metadata.create_all(self.engine, checkfirst=True)
                self.schema_ready = True

    def ping(self) -> None:
        """``SELECT 1`` (after making sure the schema exists); raises when unreachable."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def add(self, *, symbol: str, side: str, volume: float, price: float,
            client_order_id: str | None) -> dict[str, Any]:
        """Store a filled paper order; :class:`DuplicateOrderError` on a reused client id."""
        self.ensure_schema()
        row = {
            "client_order_id": client_order_id,
            "symbol": symbol,
            "side": side,
            "volume": volume,
            "price": price,
            "status": "FILLED",
            "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        }
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(insert(orders).returning(orders.c.id), row).scalar_one()
        except IntegrityError:
            existing = self.by_client_id(client_order_id) if client_order_id else None
            if existing is None:
                raise
            raise DuplicateOrderError(existing) from None
        return _public({**row, "id": new_id})

    def add_fills(self, fills: list[tuple[str, str, str, float, float]]) -> None:
        """Store the decision loop's fills of one bar in one transaction.

        Each fill is ``(order_id, symbol, side, volume, price)``; the order id goes into
        ``client_order_id`` so a row links back to the decision record.
        """
        self.ensure_schema()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = [{"client_order_id": oid, "symbol": symbol, "side": side, "volume": volume,
                 "price": price, "status": "FILLED", "created_at": now}
                for oid, symbol, side, volume, price in fills]
        with self.engine.begin() as conn:
            conn.execute(insert(orders), rows)

    def get(self, order_id: int) -> dict[str, Any] | None:
        self.ensure_schema()
        with self.engine.connect() as conn:
            found = conn.execute(select(orders).where(orders.c.id == order_id)).mappings().first()
        return _public(dict(found)) if found else None

    def by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(orders).where(orders.c.client_order_id == client_order_id)
            ).mappings().first()
        return _public(dict(found)) if found else None

    def close(self) -> None:
        self.engine.dispose()


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of an order: ISO-8601 UTC timestamp with a ``Z``."""
    created: dt.datetime = row["created_at"]
    return {
        "id": row["id"],
        "symbol": row["symbol"],
        "side": row["side"],
        "volume": float(row["volume"]),
        "price": float(row["price"]),
        "status": row["status"],
        "client_order_id": row["client_order_id"],
        "created_at": created.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z",
    }
