"""Evidence of a region failover drill (guide §9.3): paper orders through the global
endpoint, the time until it serves orders again, the orders it lost, and the drills the
audit trail holds.

Everything goes over the bot's own API, so the drill measures what a client sees and
runs the same against a pair of real clusters: an acknowledged order is one answered
201 with an id; after the failover it is *missing* when the global endpoint no longer
returns it (404, or another order under that id — the promoted database's sequence may
hand the id out again). Which region serves is told by asking each region's own URL
for an order written through the global endpoint: only one database has it until the
failback runbook resynchronises them.

    orders = OrderWriter(HttpProbe(global_url, timeouts, headers={"Connection": "close"}))
    orders.write_for(5.0, interval_s=0.2)
    ... fail the primary ...
    recovery = orders.until_recovered(failed_at, deadline_s=1800)
    lost = orders.missing(orders.acknowledged_before(failed_at))
"""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate import safeload
from goldgate.probes.http import HttpObservation, HttpProbe

ORDERS_PATH = "/api/v1/orders"
DRILL_ACTION = "failover-drill"


class FailoverUnavailable(Exception):  # noqa: N818 - reads as what happened
    """The drill's evidence could not be gathered; the message names the URL or file."""


@dataclass(frozen=True)
class AckedOrder:
    """One order the global endpoint acknowledged (HTTP 201)."""

    client_order_id: str
    order_id: int
    acked_at: float          # time.monotonic() of the answer
    acked_wall: float        # time.time() of the answer


@dataclass(frozen=True)
class Recovery:
    """From the failure to the first order the global endpoint acknowledged again."""

    recovered: bool
    elapsed_s: float         # RTO when recovered, else how long the drill waited
    deadline_s: float
    attempts: int
    failures: dict[str, int] = field(default_factory=dict)   # "HTTP 502" / "ConnectionError" -> count
    first_order: AckedOrder | None = None
    url: str = ""


@dataclass(frozen=True)
class DataLoss:
    """Acknowledged orders checked after the failover, and the ones gone."""

    checked: int
    missing: list[AckedOrder]
    failed_at_wall: float
    url: str = ""

    @property
    def window_s(self) -> float:
        """Seconds of acknowledged data lost: from the oldest missing order to the failure."""
        if not self.missing:
            return 0.0
        walls = [o.acked_wall for o in self.missing]
        if not all(math.isfinite(w) for w in [self.failed_at_wall, *walls]):
            return math.nan
        span = max(self.failed_at_wall, *walls) - min(walls)
        return max(0.0, span) if math.isfinite(span) else math.nan


@dataclass(frozen=True)
class Routing:
    """Which region served an order written through the global endpoint after a wait."""

    served_by: str | None    # "primary", "secondary" or None when neither region has it
    waited_s: float
    order: AckedOrder | None
    detail: str = ""


@dataclass(frozen=True)
class DrillRecord:
    """A failover drill found in the audit trail."""

    at: dt.datetime
    outcome: str             # "passed" or "failed"
    run_id: str
    details: dict[str, Any] = field(default_factory=dict)


def _failure(obs: HttpObservation) -> str:
    return f"HTTP {obs.status}" if obs.status is not None else (obs.error or "no answer").split(":", 1)[0]


class OrderWriter:
    """Writes small paper orders through one URL and keeps every acknowledgement."""

    def __init__(self, client: HttpProbe, *, symbol: str = "XAUUSD", volume: float = 0.01,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.symbol = symbol
        self.volume = volume
        self.clock = clock
        self.acked: list[AckedOrder] = []
        self.tag = uuid.uuid4().hex[:10]
        self._n = 0

    def write_one(self) -> AckedOrder | HttpObservation:
        self._n += 1
        client_id = f"drill-{self.tag}-{self._n}"
        obs = self.client.post(ORDERS_PATH, {"symbol": self.symbol, "side": "BUY" if self._n % 2 else "SELL",
                                             "volume": self.volume, "client_order_id": client_id})
        if obs.status == 201:
            try:
                order_id = int(obs.json()["id"])
            except (ValueError, KeyError, TypeError):
                return obs
            ack = AckedOrder(client_id, order_id, self.clock(), time.time())
            self.acked.append(ack)
            return ack
        return obs

    def write_for(self, seconds: float, *, interval_s: float, first_ack_within_s: float = 0.0) -> int:
        """Write for ``seconds``; returns how many were acknowledged.

        With ``first_ack_within_s``, writing goes on past ``seconds`` until the first
        acknowledgement, for at most that much longer: a drill measures the recovery of a
        service that took orders, and on a busy host one slow answer (the read timeout times
        its retries) can use up a short writing period with nothing acknowledged, which
        leaves the drill nothing to judge after it has failed a region.
        """
        before = len(self.acked)
        end = self.clock() + seconds
        last = end + max(0.0, first_ack_within_s)
        while (now := self.clock()) < end or (now < last and len(self.acked) == before):
            self.write_one()
            time.sleep(interval_s)
        return len(self.acked) - before

    def acknowledged_before(self, moment: float) -> list[AckedOrder]:
        return [o for o in self.acked if o.acked_at <= moment]

    def until_recovered(self, failed_at: float, *, deadline_s: float, interval_s: float,
                        primary: HttpProbe | None = None, ready_path: str = "/ready") -> Recovery:
        """Keep writing until an order is acknowledged again, or ``deadline_s`` after ``failed_at``.

        With ``primary`` (the failed region's own URL), an acknowledgement counts only when
        that region answers ``ready_path`` neither just before nor just after it: a primary
        that drains for a while after the failure still takes orders, and those are not a
        failover.
        """
        def primary_down() -> bool:
            return primary is None or primary.get(ready_path).status != 200

        failures: dict[str, int] = {}
        attempts = 0
        while True:
            attempts += 1
            down_before = primary_down()
            result = self.write_one()
            now = self.clock()
            if isinstance(result, AckedOrder):
                if down_before and primary_down():
                    return Recovery(True, now - failed_at, deadline_s, attempts, failures, result, self.client.base_url)
                reason = "acknowledged while the primary still answered"
            else:
                reason = _failure(result)
            failures[reason] = failures.get(reason, 0) + 1
            if now - failed_at >= deadline_s:
                return Recovery(False, now - failed_at, deadline_s, attempts, failures, None, self.client.base_url)
            time.sleep(interval_s)

    def missing(self, orders: Sequence[AckedOrder], failed_at_wall: float) -> DataLoss:
        """Ask for every acknowledged order again; the ones not returned as written are lost."""
        lost = [o for o in orders if not holds(self.client, o)]
        return DataLoss(len(orders), lost, failed_at_wall, self.client.base_url)


def holds(client: HttpProbe, order: AckedOrder) -> bool:
    """Whether ``client``'s region returns ``order`` under its id; raises when it cannot tell."""
    obs = client.get(f"{ORDERS_PATH}/{order.order_id}")
    if obs.status == 404:
        return False
    if obs.status != 200:
        raise FailoverUnavailable(f"GET {client.url(ORDERS_PATH)}/{order.order_id}: {_failure(obs)}"
                                  f"{' — ' + obs.body[:120] if obs.body else ''}")
    try:
        return obs.json().get("client_order_id") == order.client_order_id
    except (ValueError, AttributeError):
        raise FailoverUnavailable(f"GET {client.url(ORDERS_PATH)}/{order.order_id}: body is not an order") from None


def served_by(writer: OrderWriter, primary: HttpProbe, secondary: HttpProbe, *, wait_s: float,
              sleep: Callable[[float], None] = time.sleep) -> Routing:
    """Wait ``wait_s``, write one order through the global endpoint, and find which region has it.

    A region that does not answer counts as not having it; both having it (a shared or
    already resynchronised database) cannot tell the regions apart and says so.
    """
    sleep(wait_s)
    result = writer.write_one()
    if not isinstance(result, AckedOrder):
        return Routing(None, wait_s, None, f"the global endpoint did not take an order: {_failure(result)}")

    def has(client: HttpProbe) -> bool:
        try:
            return holds(client, result)
        except FailoverUnavailable:
            return False

    in_primary, in_secondary = has(primary), has(secondary)
    if in_primary and in_secondary:
        return Routing(None, wait_s, result, "both regions return the order: their databases are not separate, "
                                             "so the serving region cannot be told")
    region = "primary" if in_primary else "secondary" if in_secondary else None
    detail = f"order {result.order_id} found in the {region} region" if region else "neither region returns the order"
    return Routing(region, wait_s, result, detail)


def _parse_when(raw: Any) -> dt.datetime | None:
    if isinstance(raw, int | float):
        return dt.datetime.fromtimestamp(raw, dt.UTC)
    if isinstance(raw, str) and raw:
        try:
            moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return None


def _drills(actions: Iterable[Any], run_id: str, where: str, started: Any = None) -> list[DrillRecord]:
    """The ``failover-drill`` actions among ``actions`` as records (``started``: the run's start,
    for an action that carries no time of its own)."""
    found = []
    for action in actions:
        if not isinstance(action, Mapping) or action.get("action") != DRILL_ACTION:
            continue
        when = _parse_when(action.get("at")) or _parse_when(action.get("started")) or _parse_when(started)
        if when is None:
            raise FailoverUnavailable(f"{where}: failover drill without a time")
        found.append(DrillRecord(when, str(action.get("result") or action.get("outcome") or "unknown"), run_id,
                                 {k: v for k, v in action.items() if k != "action"}))
    return found


def drills_from_run(actions: Iterable[Any], run_id: str = "this run") -> list[DrillRecord]:
    """The ``failover-drill`` actions this run recorded so far (its audit record, before it is written).

    A drill earlier in the same run counts like one in the trail: the run appends exactly
    these actions to the audit trail when it ends.
    """
    return _drills(actions, run_id, run_id)


def drill_history(path: Path | None, this_run: Iterable[Any] = ()) -> list[DrillRecord]:
    """The audit trail's drills and this run's, oldest first.

    No trail (``path`` None: the run keeps none, or the file does not exist yet) is fine
    when this run drilled; otherwise there is no record to read.
    """
    current = drills_from_run(this_run)
    if path is None:
        if not current:
            raise FailoverUnavailable("no audit trail in this run (--audit-log is empty) and no drill earlier in "
                                      "it: no record of any failover drill to read")
        return current
    try:
        recorded = drills_from_audit(path)
    except FailoverUnavailable:
        if current and not path.exists():
            return current
        raise
    return sorted(recorded + current, key=lambda d: d.at)


def drills_from_audit(path: Path) -> list[DrillRecord]:
    """Every ``failover-drill`` action of the audit trail (``reports/audit.jsonl``), oldest first."""
    from goldgate.audit_trail import read_log_bytes

    if not safeload.exists_as_link_or_file(path):
        raise FailoverUnavailable(f"audit trail {path} does not exist: no record of any failover drill")
    try:
        lines = read_log_bytes(path).splitlines()
    except safeload.LoadError as exc:
        raise FailoverUnavailable(f"audit trail {path}: {exc.located_cause}") from None
    found: list[DrillRecord] = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = safeload.load_json_line(raw, name=str(path), line=number)
        except safeload.LoadError as exc:
            raise FailoverUnavailable(f"audit trail {path} line {number}: not JSON ({exc.cause})") from None
        if not isinstance(record, dict):
            raise FailoverUnavailable(f"audit trail {path} line {number}: not a record object")
        found += _drills(record.get("actions") or [], str(record.get("run_id") or ""),
                         f"audit trail {path} line {number}", (record.get("when") or {}).get("started"))
    return sorted(found, key=lambda d: d.at)


def lands_in(writer: OrderWriter, region: str, client: HttpProbe) -> Routing:
    """Write one order through the global endpoint and tell whether ``region`` has it."""
    result = writer.write_one()
    if not isinstance(result, AckedOrder):
        return Routing(None, 0.0, None, f"the global endpoint did not take an order: {_failure(result)}")
    try:
        found = holds(client, result)
    except FailoverUnavailable as exc:
        return Routing(None, 0.0, result, str(exc))
    where = region if found else None
    return Routing(where, 0.0, result, f"order {result.order_id} {'found' if found else 'not found'} in the {region} "
                                       f"region at {client.base_url}")


def wait_ready(client: HttpProbe, path: str, *, timeout_s: float, interval_s: float) -> float | None:
    """Seconds until ``path`` answers 200 (the region is back), or None within ``timeout_s``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if client.get(path).status == 200:
            return time.monotonic() - started
        time.sleep(interval_s)
    return None
