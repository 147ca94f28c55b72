"""The reference trading bot's HTTP application (Starlette, served by uvicorn).

Routes: ``/health`` (liveness), ``/ready`` (readiness: model loaded + database answers),
``/metrics`` (Prometheus), ``/version``, ``/api/v1/signal``, ``/api/v1/orders``, the
decision record ``/api/v1/decisions`` and the kill switch ``/api/v1/trading/{halt,resume,
status}`` (the trading contract, README "The trading bot's contract") and ``/flags`` (the
features as the pod evaluates them, :mod:`.flags`). The decision loop
(:mod:`.loop`) runs as a task of the app's lifespan. One
outermost ASGI layer, :class:`RequestObserver`, times every request, counts it by route
template and status, writes the optional request log, and applies the error/latency/stall
knobs to ``/api/`` paths only — so liveness, readiness and scrapes stay honest while the
business routes misbehave, as they would in a bad release.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goldgate.sandbox.bot import flags as feature_flags
from goldgate.sandbox.bot import model
from goldgate.sandbox.bot.db import DuplicateOrderError, OrderStore, make_engine
from goldgate.sandbox.bot.faults import FaultInjector
from goldgate.sandbox.bot.feed import make_feed
from goldgate.sandbox.bot.knobs import FaultKnobs
from goldgate.sandbox.bot.ledger import PaperLedger
from goldgate.sandbox.bot.loop import DecisionLoop
from goldgate.sandbox.bot.metrics import BotMetrics
from goldgate.sandbox.bot.settings import Settings
from goldgate.sandbox.bot.trading import PaperOrder, TradingDesk, parse_time

log = logging.getLogger("goldgate.bot")

READY_DB_TIMEOUT_S = 3.0
UNMATCHED_ROUTE = "unmatched"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DECISIONS_DEFAULT_LIMIT = 1000
DECISIONS_MAX_LIMIT = 5000
HALT_REASON_MAX = 200
#: The release's A/B experiment on its signal model (flags.yaml), counted per variant.
AB_FLAG = "signal_model_ab"


def _utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class BotState:
    """Everything one bot process holds; handlers reach it through ``request.app.state``."""

    settings: Settings
    knobs: FaultKnobs
    faults: FaultInjector
    metrics: BotMetrics
    store: OrderStore
    ledger: PaperLedger
    desk: TradingDesk
    flags: feature_flags.Flags = field(default_factory=lambda: feature_flags.Flags(None))
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    database_ok: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def model_loaded(self) -> bool:
        """Warm-up elapsed (model "loaded"), unless the never-ready fault keeps it loading."""
        if self.faults.model_never_loads:
            return False
        return self.faults.uptime() >= self.settings.warmup_s

    def mid(self, symbol: str) -> float:
        """The price the book is marked at: the last bar's close the loop saw, else the
        model's price of the current minute (no bar yet)."""
        seen = self.desk.last_mid.get(symbol)
        return seen if seen is not None else model.price_at(symbol, model.current_minute())

    def pnl(self) -> float:
        return round(self.ledger.pnl(self.mid), 2)

    def mark_pnl(self) -> None:
        self.metrics.pnl.set(self.pnl())


def _state(request: Request) -> BotState:
    return request.app.state.bot


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


# ------------------------------------------------------------------ probe endpoints


async def health(request: Request) -> JSONResponse:
    if _state(request).faults.liveness_failing():
        return JSONResponse({"status": "failing", "reason": "liveness fault"}, status_code=500)
    return JSONResponse({"status": "ok"})


async def _check_database(state: BotState) -> bool:
    try:
        await asyncio.wait_for(run_in_threadpool(state.store.ping), READY_DB_TIMEOUT_S)
    except Exception as exc:  # any driver error means "not reachable" for readiness
        if state.database_ok:
            log.warning("database check failed: %s", type(exc).__name__)
        state.database_ok = False
    else:
        state.database_ok = True
    return state.database_ok


async def ready(request: Request) -> JSONResponse:
    state = _state(request)
    checks = {"model": state.model_loaded(), "database": await _check_database(state)}
    ok = all(checks.values())
    state.metrics.ready.set(1 if ok else 0)
    body = {"status": "ready" if ok else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    state = _state(request)
    state.metrics.ready.set(1 if state.model_loaded() and state.database_ok else 0)
    state.mark_pnl()
    return Response(state.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)


async def version(request: Request) -> JSONResponse:
    state = _state(request)
    return JSONResponse({
        "version": state.settings.version,
        "model": state.settings.model_version,
        "started_at": _utc_iso(state.started_at),
    })


async def feature_flags_now(request: Request) -> JSONResponse:
    """The features as this pod evaluates them now, and where the values come from."""
    state = _state(request)
    values = await run_in_threadpool(state.flags.snapshot)
    return JSONResponse({"source": state.flags.source, "ignore_changes": state.flags.ignore_changes,
                         "flags": values})


async def _watch_flags(state: BotState, every_s: float = 0.5) -> None:
    """Evaluate every flag twice a second: the gauges show what the pod does now, and the
    flag server's usage counts see the pod evaluating its flags."""
    while True:
        values = await run_in_threadpool(state.flags.snapshot)
        for name, on in values.items():
            state.metrics.feature_enabled.labels(feature=name).set(1 if on else 0)
        await asyncio.sleep(every_s)


# ----------------------------------------------------------------- business routes


async def signal(request: Request) -> JSONResponse:
    state = _state(request)
    symbol = request.query_params.get("symbol", "").strip().upper()
    if symbol not in model.SYMBOLS:
        return _error(400, "unknown or missing symbol", symbol=symbol or None,
                      supported=sorted(model.SYMBOLS))
    began = time.perf_counter()
    # Simulated inference: the accelerator "works" (sleep) plus the real, tiny model.
    await asyncio.sleep(state.settings.signal_base_ms * state.knobs.slowdown_factor / 1000)
    result = model.predict(symbol, model.current_minute(), state.settings.model_version)
    state.metrics.inference.observe(time.perf_counter() - began)
    # The A/B experiment: one variant per request, sticky to the request's id.
    request_id = request.headers.get("x-request-id", "").strip()[:64] or uuid.uuid4().hex
    variant = state.flags.variant(AB_FLAG, request_id)
    state.metrics.flag_variants.labels(flag=AB_FLAG, variant=variant).inc()
    return JSONResponse(result.as_dict(), headers={"X-Signal-Variant": variant})


def _validate_order(body: Any) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(body, dict):
        return None, ["body must be a JSON object"]
    problems = []
    symbol, side, volume = body.get("symbol"), body.get("side"), body.get("volume")
    client_id = body.get("client_order_id")
    if symbol not in model.SYMBOLS:
        problems.append(f"symbol must be one of {sorted(model.SYMBOLS)}")
    if side not in ("BUY", "SELL"):
        problems.append("side must be BUY or SELL")
    if (isinstance(volume, bool) or not isinstance(volume, int | float)
            or not math.isfinite(volume) or volume <= 0):
        problems.append("volume must be a number > 0")
    if client_id is not None and (not isinstance(client_id, str) or not 1 <= len(client_id) <= 64):
        problems.append("client_order_id must be a string of 1..64 characters")
    if problems:
        return None, problems
    return {"symbol": symbol, "side": side, "volume": float(volume),
            "client_order_id": client_id}, []


async def create_order(request: Request) -> JSONResponse:
    state = _state(request)
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return _error(422, "body is not valid JSON")
    order, problems = _validate_order(body)
    if order is None:
        return _error(422, "invalid order", details=problems)
    if state.desk.halted and not state.knobs.ignore_kill_switch:
        return _error(409, "trading is halted (kill switch); resume it first")
    if not state.flags.enabled("order_idempotency"):  # kill switch off: every order is new
        order["client_order_id"] = None
    mid = state.mid(order["symbol"])
    price = state.ledger.fill_price(order["symbol"], order["side"], mid)
    try:
        stored = await run_in_threadpool(lambda: state.store.add(price=price, **order))
    except DuplicateOrderError as dup:
        # Idempotent retry: same client id and same order → the original, no new trade.
        same = all(dup.existing[k] == order[k] for k in ("symbol", "side", "volume"))
        if same:
            return JSONResponse(dup.existing, status_code=200)
        return _error(409, "client_order_id already used for a different order",
                      order=dup.existing)
    state.ledger.fill(stored["symbol"], stored["side"], stored["volume"], stored["price"])
    state.metrics.trades.labels(symbol=stored["symbol"], side=stored["side"]).inc()
    state.desk.record_client_fill(stored["symbol"], stored["side"])
    state.mark_pnl()
    return JSONResponse(stored, status_code=201)


async def get_order(request: Request) -> JSONResponse:
    raw = request.path_params["order_id"]
    if not raw.isdigit():
        return _error(404, "order not found", id=raw)
    found = await run_in_threadpool(_state(request).store.get, int(raw))
    if found is None:
        return _error(404, "order not found", id=int(raw))
    return JSONResponse(found)


# ------------------------------------------------------- decision record, kill switch


def _book(state: BotState) -> dict[str, Any]:
    desk = state.desk
    return {"halted": desk.halted, "position": desk.positions(state.settings.symbols),
            "pnl_usd": state.pnl(), "open_orders": desk.reported_open_orders()}


async def decisions(request: Request) -> JSONResponse:
    """The decision record, oldest first; ``since`` (exclusive bar time) pages through it."""
    state = _state(request)
    raw_since = request.query_params.get("since", "").strip()
    since = None
    if raw_since:
        try:
            since = parse_time(raw_since)
        except ValueError:
            return _error(400, "since must be an ISO 8601 bar time, e.g. 2026-12-06T08:30:00.500Z",
                          parameter="since", value=raw_since[:64])
    raw_limit = request.query_params.get("limit", "").strip()
    limit = DECISIONS_DEFAULT_LIMIT
    if raw_limit:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= DECISIONS_MAX_LIMIT:
            return _error(400, f"limit must be an integer from 1 to {DECISIONS_MAX_LIMIT}",
                          parameter="limit", value=raw_limit[:64])
        limit = int(raw_limit)
    return JSONResponse({"decisions": state.desk.decisions(since, limit), **_book(state),
                         "version": state.settings.version,
                         "model_version": state.settings.model_version})


async def _halt_reason(request: Request) -> tuple[str | None, JSONResponse | None]:
    raw = await request.body()
    if not raw.strip():
        return None, None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, _error(422, "body is not valid JSON")
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(body, dict) or (reason is not None and not isinstance(reason, str)):
        return None, _error(422, 'body must be {"reason": "<text>"} or empty')
    return (reason[:HALT_REASON_MAX] if reason else None), None


async def trading_halt(request: Request) -> JSONResponse:
    state = _state(request)
    reason, problem = await _halt_reason(request)
    if problem is not None:
        return problem
    cancelled = state.desk.halt(reason)
    log.warning("kill switch: trading halted (%s), %d open order(s) cancelled%s",
                reason or "no reason given", len(cancelled),
                " - IGNORED (FAULT_IGNORE_KILL_SWITCH)" if state.knobs.ignore_kill_switch else "")
    state.mark_pnl()
    return JSONResponse({**_book(state), "halted": True, "cancelled_orders": cancelled})


async def trading_resume(request: Request) -> JSONResponse:
    state = _state(request)
    state.desk.resume()
    log.info("kill switch: trading resumed")
    return JSONResponse(_book(state))


async def trading_status(request: Request) -> JSONResponse:
    state = _state(request)
    return JSONResponse({**_book(state), "orders_since_halt": state.desk.orders_since_halt,
                         "halt_reason": state.desk.halt_reason})


async def http_error(_request: Request, exc: Exception) -> Response:
    """JSON bodies for router-level 404/405, like every other error of the bot."""
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, exc.detail)


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/ready", ready, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/version", version, methods=["GET"]),
    Route("/api/v1/signal", signal, methods=["GET"]),
    Route("/api/v1/orders", create_order, methods=["POST"]),
    Route("/api/v1/orders/{order_id}", get_order, methods=["GET"]),
    Route("/api/v1/decisions", decisions, methods=["GET"]),
    Route("/api/v1/trading/halt", trading_halt, methods=["POST"]),
    Route("/api/v1/trading/resume", trading_resume, methods=["POST"]),
    Route("/api/v1/trading/status", trading_status, methods=["GET"]),
    Route("/flags", feature_flags_now, methods=["GET"]),
]


# ------------------------------------------------------------- request observer


class RequestLog:
    """Append-only JSON lines, one per request, written with one ``write`` each.

    Opened with ``O_APPEND`` so several replicas may share a file without interleaving
    partial lines; benchmarks read it as the server-side truth.
    """

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, **record: Any) -> None:
        os.write(self._fd, (json.dumps(record) + "\n").encode())

    def close(self) -> None:
        os.close(self._fd)


def _padding(send: Send, faults: FaultInjector) -> Send:
    """A ``send`` that holds a JSON response until its body is complete and pads it
    (FAULT_RESPONSE_PADDING_BYTES), with Content-Length set to the padded size."""
    start: list[Message] = []  # the held response start of a JSON response
    body = bytearray()

    async def padded_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            if headers.get(b"content-type", b"").startswith(b"application/json"):
                start.append(message)
                return
        if message["type"] != "http.response.body" or not start:
            await send(message)
            return
        body.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        padded = faults.pad_body(bytes(body))
        headers = [(k, v) for k, v in start[0].get("headers") or [] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(padded)).encode()))
        await send({**start[0], "headers": headers})
        await send({"type": "http.response.body", "body": padded, "more_body": False})

    return padded_send


class RequestObserver:
    """Outermost ASGI layer: metrics, request log, and the /api/ fault knobs."""

    def __init__(self, app: ASGIApp, routes: list[Route], state: BotState,
                 request_log: RequestLog | None) -> None:
        self.app = app
        self.routes = routes
        self.state = state
        self.request_log = request_log

    def route_template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return route.path
        return UNMATCHED_ROUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ts = time.time()
        began = time.perf_counter()
        route = self.route_template(scope)
        method = scope["method"]
        is_api = scope["path"].startswith("/api/")
        faults = self.state.faults
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if is_api:  # a request in flight when a stall opens waits it out too
                    await faults.wait_out_stall()
            await send(message)

        sender = _padding(observed_send, faults) if is_api and faults.knobs.response_padding_bytes else observed_send
        try:
            if is_api and await faults.before_api_request():
                injected = _error(500, "injected fault (FAULT_ERROR_RATE or FAULT_ERROR_BURSTS)")
                await injected(scope, receive, sender)
            else:
                await self.app(scope, receive, sender)
        finally:
            elapsed = time.perf_counter() - began
            self.state.metrics.observe_request(route, method, status, elapsed)
            if self.request_log is not None:
                self.request_log.write(ts=ts, route=route, method=method, status=status,
                                       duration_ms=round(elapsed * 1000, 3))


# ------------------------------------------------------------------- assembly


def _decision_loop(state: BotState) -> DecisionLoop:
    s = state.settings

    def store_fills(fills: list[PaperOrder]) -> None:
        state.store.add_fills([(o.order_id, o.symbol, o.side, o.volume, o.fill_price or 0.0)
                               for o in fills])

    return DecisionLoop(desk=state.desk, feed=make_feed(s.market_feed_url, s.market_seed,
                                                        s.market_bar_s),
                        symbols=s.symbols, model_version=s.model_version,
                        metrics=state.metrics, store_fills=store_fills,
                        model_loaded=state.model_loaded)


def build_app(settings: Settings, knobs: FaultKnobs, started: float | None = None) -> ASGIApp:
    """The complete ASGI app: Starlette routes wrapped by the request observer.

    ``started`` (a ``time.monotonic()`` reading) is the origin of the fault clocks;
    ``python -m goldgate.sandbox.bot`` passes the process start.
    """
    faults = FaultInjector(knobs, started)
    metrics = BotMetrics(version=settings.version, model_version=settings.model_version,
                         data_dir=settings.data_dir, disk_free_percent=knobs.disk_free_percent,
                         symbols=settings.symbols)
    ledger = PaperLedger()
    state = BotState(
        settings=settings,
        knobs=knobs,
        faults=faults,
        metrics=metrics,
        store=OrderStore(make_engine(settings.database_url)),
        ledger=ledger,
        desk=TradingDesk(knobs=knobs, ledger=ledger, metrics=metrics,
                         model_version=settings.model_version,
                         order_volume=settings.order_volume,
                         max_position_lots=settings.max_position_lots,
                         hold_bars=settings.hold_bars, keep=settings.decisions_keep),
        flags=feature_flags.from_env(ignore_changes=knobs.ignore_flags, skew_variants=knobs.variant_skew),
    )
    request_log = RequestLog(settings.request_log) if settings.request_log else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if not await _check_database(state):  # also creates the table when missing
            log.warning("database not reachable at start; /ready answers 503 until it is")
        if knobs.memory_growth_mb_per_s > 0:
            state.tasks.append(asyncio.create_task(faults.grow_memory()))
        state.tasks.append(asyncio.create_task(_decision_loop(state).run()))
        state.tasks.append(asyncio.create_task(_watch_flags(state)))
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            state.store.close()
            state.flags.close()
            if request_log is not None:
                request_log.close()

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: http_error}
    app = Starlette(routes=ROUTES, lifespan=lifespan, exception_handlers=handlers)
    app.state.bot = state
    return RequestObserver(app, ROUTES, state, request_log)
