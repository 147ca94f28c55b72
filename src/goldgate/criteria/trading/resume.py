"""The trading tests' state as plain JSON, so a restarted judge continues them instead of starting over.

Each comparison (signal agreement, trade rate, order rejects) is a sequential test whose
error budget is spent once over the whole run (:mod:`goldgate.criteria.trading.sequential`).
Starting one afresh after a restart re-spends that budget and forgets the bars and orders
already counted; so the judge stores each test's state with the run and restores it.

A snapshot is a dict of numbers, strings and lists only (non-finite floats as text, since
PostgreSQL's ``jsonb`` has no ``Infinity``), tagged with :data:`VERSION` and with the test's
plan. A snapshot of another version, of other settings (another plan), or one that does not
parse is refused with one line saying why; the caller starts the test afresh and says so.
Refusing is always safe: a fresh test only waits longer, it never passes on nothing.
No I/O here.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from goldgate.criteria.trading.agreement import AgreementState, SignalAgreement
from goldgate.criteria.trading.rates import TradeRate, TradeRateState
from goldgate.criteria.trading.rejects import OrderRejects, RejectState

__all__ = ["VERSION", "SnapshotRefusedError", "num", "plain", "restore_test", "snapshot_test", "unnum"]

#: Bumped whenever a snapshot's layout changes: an older snapshot is then refused, never misread.
VERSION = 1


class SnapshotRefusedError(ValueError):
    """A snapshot that cannot continue this test (message: why, one line)."""


def num(x: Any) -> Any:
    """A float as JSON can carry it everywhere: non-finite ones as text."""
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)  # 'inf', '-inf', 'nan'
    return x


def unnum(x: Any, where: str) -> float:
    """Back from :func:`num`; anything else than a number (or its text) is refused."""
    if isinstance(x, bool):
        raise SnapshotRefusedError(f"{where}: not a number: {x!r}")
    if isinstance(x, int | float):
        return float(x)
    if x in ("inf", "-inf", "nan"):
        return float(x)
    raise SnapshotRefusedError(f"{where}: not a number: {x!r}")


def plain(value: Any) -> Any:
    """Tuples as lists, non-finite floats as text, recursively (JSON-able)."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return num(value)


def _plan(plan: Any) -> dict[str, Any]:
    return plain(dataclasses.asdict(plan))


def _fields(state: Any) -> dict[str, Any]:
    return {f.name: plain(getattr(state, f.name)) for f in dataclasses.fields(state) if f.name != "plan"}


def _check(snap: Any, kind: str, plan: Any) -> dict[str, Any]:
    if not isinstance(snap, dict):
        raise SnapshotRefusedError(f"{kind}: the snapshot is not an object")
    if snap.get("version") != VERSION:
        raise SnapshotRefusedError(f"{kind}: snapshot version {snap.get('version')!r}, this judge reads {VERSION}")
    if snap.get("kind") != kind:
        raise SnapshotRefusedError(f"{kind}: the snapshot is of {snap.get('kind')!r}")
    if snap.get("plan") != _plan(plan):
        raise SnapshotRefusedError(f"{kind}: the settings changed since the snapshot (plan {snap.get('plan')!r}, "
                                   f"now {_plan(plan)!r})")
    state = snap.get("state")
    if not isinstance(state, dict):
        raise SnapshotRefusedError(f"{kind}: the snapshot has no state")
    return state


def _floats(v: Any, where: str) -> tuple[float, ...]:
    if not isinstance(v, list):
        raise SnapshotRefusedError(f"{where}: not a list: {v!r}")
    return tuple(unnum(x, where) for x in v)


def _int(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise SnapshotRefusedError(f"{where}: not a non-negative count: {v!r}")
    return v


def _key(v: Any, where: str) -> tuple[float, str]:
    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[1], str)):
        raise SnapshotRefusedError(f"{where}: not a (bar, symbol) key: {v!r}")
    return unnum(v[0], where), v[1]


# ---------------------------------------------------------------------- per test
def snapshot_test(test: SignalAgreement | TradeRate | OrderRejects) -> dict[str, Any]:
    """One comparison's state as plain JSON (see the module docstring)."""
    snap: dict[str, Any] = {"version": VERSION, "kind": type(test).__name__, "plan": _plan(test.plan),
                            "state": _fields(test.state)}
    if isinstance(test, SignalAgreement):
        snap["pending"] = {track: [[[num(k[0]), k[1]], dict(pods)] for k, pods in sorted(p.items())]
                           for track, p in test._pending.items()}
        snap["newest"] = {track: num(t) for track, t in test._newest.items()}
        snap["done"] = [[num(k[0]), k[1]] for k in sorted(test._done)]
        snap["done_before"] = num(test._done_before)
    return snap


def restore_test(test: SignalAgreement | TradeRate | OrderRejects, snap: Any) -> None:
    """Continue ``test`` (fresh, of the current plan) from ``snap``; raises SnapshotRefusedError, leaving
    ``test`` as it was, when the snapshot cannot be continued."""
    kind = type(test).__name__
    s = _check(snap, kind, test.plan)
    try:
        if isinstance(test, SignalAgreement):
            _restore_agreement(test, s, snap)
        elif isinstance(test, TradeRate):
            test.state = _rate_state(test, s)
        else:
            test.state = _reject_state(test, s)
    except SnapshotRefusedError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise SnapshotRefusedError(f"{kind}: malformed snapshot: {type(exc).__name__}: {exc}") from None


def _rate_state(test: TradeRate, s: dict[str, Any]) -> TradeRateState:
    w = "TradeRate"
    pend = s["pending"]
    state = TradeRateState(
        test.plan, polls=_int(s["polls"], f"{w}.polls"), canary_orders=_int(s["canary_orders"], f"{w}.canary_orders"),
        stable_orders=_int(s["stable_orders"], f"{w}.stable_orders"),
        canary_exposure=unnum(s["canary_exposure"], f"{w}.canary_exposure"),
        stable_exposure=unnum(s["stable_exposure"], f"{w}.stable_exposure"),
        loglik=_floats(s["loglik"], f"{w}.loglik"),
        pending=(_int(pend[0], w), unnum(pend[1], w), _int(pend[2], w), unnum(pend[3], w)),
        alarm=str(s["alarm"]),
        alarm_at=None if s["alarm_at"] is None else (
            *_floats(s["alarm_at"][:2], f"{w}.alarm_at"), *(int(x) for x in s["alarm_at"][2:5])))  # type: ignore[arg-type]
    if len(state.loglik) != len(test.plan.ratios()) or state.alarm not in ("", "over", "under"):
        raise SnapshotRefusedError(f"{w}: the mixture does not match the plan")
    return state


def _reject_state(test: OrderRejects, s: dict[str, Any]) -> RejectState:
    w = "OrderRejects"
    pend = s["pending"]
    state = RejectState(
        test.plan, polls=_int(s["polls"], f"{w}.polls"),
        canary_rejects=_int(s["canary_rejects"], f"{w}.canary_rejects"),
        canary_orders=_int(s["canary_orders"], f"{w}.canary_orders"),
        stable_rejects=_int(s["stable_rejects"], f"{w}.stable_rejects"),
        stable_orders=_int(s["stable_orders"], f"{w}.stable_orders"),
        log_wealth=_floats(s["log_wealth"], f"{w}.log_wealth"),
        pending=tuple(_int(x, f"{w}.pending") for x in pend),  # type: ignore[arg-type]
        alarm=bool(s["alarm"]),
        alarm_at=None if s["alarm_at"] is None else (
            *_floats(s["alarm_at"][:2], f"{w}.alarm_at"), int(s["alarm_at"][2])))  # type: ignore[arg-type]
    if len(state.log_wealth) != len(test.plan.bets) or len(state.pending) != 4:
        raise SnapshotRefusedError(f"{w}: the bets do not match the plan")
    return state


def _restore_agreement(test: SignalAgreement, s: dict[str, Any], snap: dict[str, Any]) -> None:
    w = "SignalAgreement"
    counts = {name: _int(s[name], f"{w}.{name}") for name in (
        "pairs", "disagreements", "canary_only", "stable_only", "ambiguous", "canary_decisions", "stable_decisions")}
    by_symbol = {str(sym): (_int(v[0], f"{w}.by_symbol"), _int(v[1], f"{w}.by_symbol"))
                 for sym, v in dict(s["by_symbol"]).items()}
    examples = tuple((unnum(e[0], f"{w}.examples"), str(e[1]), str(e[2]), str(e[3])) for e in s["examples"])
    state = AgreementState(
        test.plan, **counts, by_symbol=by_symbol, examples=examples, problem=str(s["problem"]),
        first_bar=None if s["first_bar"] is None else unnum(s["first_bar"], f"{w}.first_bar"),
        last_bar=None if s["last_bar"] is None else unnum(s["last_bar"], f"{w}.last_bar"))
    if state.disagreements > state.pairs:
        raise SnapshotRefusedError(f"{w}: {state.disagreements} disagreements in {state.pairs} paired bars")
    pending: dict[str, dict[tuple[float, str], dict[str, str]]] = {"canary": {}, "stable": {}}
    for track, items in dict(snap["pending"]).items():
        if track not in pending:
            raise SnapshotRefusedError(f"{w}: unknown track {track!r}")
        for key, pods in items:
            pending[track][_key(key, f"{w}.pending")] = {str(p): str(sig) for p, sig in dict(pods).items()}
    newest = {str(t): unnum(v, f"{w}.newest") for t, v in dict(snap["newest"]).items()}
    done_before = unnum(snap.get("done_before", "-inf"), f"{w}.done_before")  # absent: an older snapshot
    if math.isnan(done_before) or done_before == math.inf:
        raise SnapshotRefusedError(f"{w}: done_before {snap.get('done_before')!r} is not a bar time")
    done = {k for k in (_key(k, f"{w}.done") for k in snap["done"]) if k[0] >= done_before}
    test.state, test._pending, test._newest, test._done = state, pending, newest, done
    test._done_before = done_before
