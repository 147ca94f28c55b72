"""The judge's HTTP surface: Starlette routes over the :class:`~goldgate.judge.engine.Judge`.

Endpoints (all JSON):

==========================  ==============================================================
``POST /v1/flagger/{hook}`` Flagger webhooks (:mod:`goldgate.judge.flagger` has the codes)
``POST /v1/argo``           Argo Rollouts ``web`` provider (200 every verdict, 503 on ERROR)
``POST /judge``             Kayenta remote judge (``CanaryJudgeResult``)
``GET /v1/runs/{ns}/{workload}/{revision}``  a known run's last answer (404 for unknown runs)
``GET /health``             liveness/readiness of the judge itself (no token)
``GET /metrics``            the judge's own Prometheus metrics (no token; no run names)
==========================  ==============================================================

Safe to expose: every other endpoint needs ``Authorization: Bearer <judge.token>``, or a
client certificate signed by ``judge.tls.client_ca`` when the judge listens with mutual TLS
(401 otherwise; Flagger, which cannot send headers, may put it in the webhook's
``metadata.token``, or for its global event webhook, whose payload it writes itself, in the
URL's ``?token=`` — access logging is off); bodies over ``judge.max_body_bytes`` are 413, malformed JSON 400, unknown
hooks and runs 404, over ``judge.rate_limit_per_minute`` per client address 429; every
error is one JSON line ``{"error", "field"}`` and never a traceback, never a PASS.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from goldgate.judge import argo, flagger, kayenta
from goldgate.judge.engine import Judge
from goldgate.judge.pregate import pods_healthy
from goldgate.judge.runs import BadRequestError, RunKey
from goldgate.judge.targets import resolve_target
from goldgate.report import audit

__all__ = ["create_app"]

Handler = Callable[[Request], Awaitable[Response]]


class RateLimiter:
    """A sliding one-minute window of request times per client address."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str) -> float:
        """0 when allowed, else the seconds until the next request would be."""
        now = self.clock()
        q = self._seen.setdefault(client, deque())
        while q and now - q[0] >= 60.0:
            q.popleft()
        if len(q) >= self.per_minute:
            return max(0.1, 60.0 - (now - q[0]))
        q.append(now)
        if len(self._seen) > 10_000:  # forget idle clients; a flood of addresses cannot grow memory
            for k in [k for k, v in self._seen.items() if not v or now - v[-1] >= 60.0]:
                self._seen.pop(k, None)
        return 0.0


class Telemetry:
    """The judge's own counters, rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()
        self.verdicts: Counter[tuple[str, str]] = Counter()
        self.answer_seconds: list[float] = []  # the latest 10 000, for the quantiles
        self.answers_total = 0
        self.answer_total_s = 0.0

    def render(self, judge: Judge) -> str:
        lines = ["# HELP goldgate_judge_requests_total Requests by endpoint and status code.",
                 "# TYPE goldgate_judge_requests_total counter"]
        lines += [f'goldgate_judge_requests_total{{endpoint="{e}",code="{c}"}} {n}'
                  for (e, c), n in sorted(self.requests.items())]
        lines += ["# HELP goldgate_judge_verdicts_total Verdicts answered by endpoint.",
                  "# TYPE goldgate_judge_verdicts_total counter"]
        lines += [f'goldgate_judge_verdicts_total{{endpoint="{e}",verdict="{v}"}} {n}'
                  for (e, v), n in sorted(self.verdicts.items())]
        lines += ["# HELP goldgate_judge_active_runs Runs evaluated in the background now.",
                  "# TYPE goldgate_judge_active_runs gauge", f"goldgate_judge_active_runs {judge.active_runs}"]
        for name, values, count, total in (
                ("answer", self.answer_seconds, self.answers_total, self.answer_total_s),
                ("evaluation", judge.evaluation_seconds, judge.evaluations_total, judge.evaluation_total_s)):
            kept = sorted(values)  # quantiles of the latest 10 000 answers / 1000 evaluations; count and sum: all
            lines += [f"# TYPE goldgate_judge_{name}_seconds summary"]
            lines += [f'goldgate_judge_{name}_seconds{{quantile="{q:g}"}} '
                      f"{kept[min(len(kept) - 1, int(q * len(kept)))]:.6f}" for q in (0.5, 0.99) if kept]
            lines += [f"goldgate_judge_{name}_seconds_count {count}",
                      f"goldgate_judge_{name}_seconds_sum {total:.6f}"]
        return "\n".join(lines) + "\n"


def _unauthorized() -> JSONResponse:
    return JSONResponse({"error": "missing or wrong bearer token", "field": "Authorization"},
                        status_code=401, headers={"WWW-Authenticate": "Bearer"})


def _error(exc: BadRequestError) -> JSONResponse:
    return JSONResponse({"error": str(exc), "field": exc.field}, status_code=exc.status)


async def _json_body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequestError("Content-Length", "not a number")
        if int(declared) > limit:
            raise BadRequestError("body", f"{declared} bytes is over the judge's limit of {limit}", status=413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequestError("body", f"over the judge's limit of {limit} bytes", status=413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequestError("body", "empty; a JSON object is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError("body", f"not JSON: {str(exc)[:120]}") from None


def create_app(judge: Judge, *, token: str | None, audit_log: Path | None = None,
               clock: Callable[[], float] = time.monotonic, client_certs: bool = False) -> Starlette:
    """The ASGI app; ``token`` None means no authentication (only ever for loopback or mutual TLS).

    ``client_certs``: the listener is mutual TLS with ``CERT_REQUIRED`` (:mod:`goldgate.judge.tls`),
    so a request that arrived over TLS came from a client whose certificate the CA signed.
    """
    cfg = judge.env.judge
    limiter = RateLimiter(cfg.rate_limit_per_minute, clock)
    telemetry = Telemetry()
    expected = f"Bearer {token}".encode() if token else None

    def guarded(endpoint: str) -> Callable[[Handler], Handler]:
        def wrap(handler: Handler) -> Handler:
            async def run(request: Request) -> Response:
                t0 = time.monotonic()
                response = await _guard(request, handler)
                telemetry.requests[(endpoint, response.status_code)] += 1
                took = time.monotonic() - t0
                telemetry.answer_seconds.append(took)
                telemetry.answers_total += 1
                telemetry.answer_total_s += took
                del telemetry.answer_seconds[:-10_000]
                return response
            return run
        return wrap

    async def _guard(request: Request, handler: Handler) -> Response:
        client = request.client.host if request.client else "unknown"
        wait = limiter.allow(client)
        if wait:
            return JSONResponse({"error": f"rate limit: over {cfg.rate_limit_per_minute} requests a minute from "
                                          f"{client}", "field": "client"}, status_code=429,
                                headers={"Retry-After": str(int(wait) + 1)})
        given = request.headers.get("authorization", "").encode()
        request.state.authenticated = (expected is None or hmac.compare_digest(given, expected)
                                       or (client_certs and request.url.scheme == "https"))
        # Flagger cannot send headers (fluxcd/flagger#1192): its hooks may carry the token in
        # metadata.token instead, checked once the body is parsed.
        if not request.state.authenticated and not request.url.path.startswith("/v1/flagger/"):
            return _unauthorized()
        try:
            return await handler(request)
        except BadRequestError as exc:
            return _error(exc)

    def _answer(endpoint: str, body: dict[str, Any], status: int) -> JSONResponse:
        telemetry.verdicts[(endpoint, str(body.get("verdict", "")))] += 1
        return JSONResponse(body, status_code=status)

    @guarded("flagger")
    async def flagger_hook(request: Request) -> Response:
        hook = request.path_params["hook"]
        if hook not in flagger.HOOKS:
            raise BadRequestError("hook", f"unknown Flagger hook {hook[:60]!r} (known: {', '.join(flagger.HOOKS)})",
                                  status=404)
        call = flagger.parse(hook, await _json_body(request, cfg.max_body_bytes))
        offered = call.metadata.get("token") or request.query_params.get("token", "")
        if not request.state.authenticated and not (token and hmac.compare_digest(offered.encode(), token.encode())):
            return _unauthorized()
        if hook in flagger.RECORDED:
            return _answer("flagger", await _record(call), 200)
        key = call.key
        fields = ("name", "checksum")
        if hook in ("pre-rollout", "confirm-rollout"):
            body = await _pre_gate(call, key, fields)
        else:
            body = await judge.answer(key, exact_revision=False, fields=fields)
        return _answer("flagger", body, flagger.status_for(hook, body["verdict"]))

    async def _pre_gate(call: flagger.FlaggerCall, key: RunKey, fields: tuple[str, str]) -> dict[str, Any]:
        from goldgate.judge.engine import answer_body

        loop = asyncio.get_running_loop()
        target = await loop.run_in_executor(
            judge.open_pool, lambda: resolve_target(judge.kube, key, exact_revision=False, fields=fields))
        group = target.group if call.hook == "pre-rollout" else (target.baseline or target.group)
        verdict = await loop.run_in_executor(judge.open_pool, lambda: pods_healthy(judge.env, judge.kube, group))
        if call.hook == "pre-rollout":  # open the run now: its evidence starts accumulating before traffic
            await judge.answer(key, exact_revision=False, fields=fields)
        return answer_body(key, verdict, [verdict], {"hook": call.hook, "group": str(group),
                                                     "notes": list(target.notes)})

    async def _record(call: flagger.FlaggerCall) -> dict[str, Any]:
        finished = judge.finish(call.namespace, call.name, f"{call.hook} {call.phase}") \
            if call.hook == "post-rollout" else []
        if audit_log is not None:
            facts = audit.facts_for(
                judge.env, decision=f"flagger {call.hook}: {call.phase or 'no phase'}",
                reasons=[call.metadata.get("eventMessage", "")] if call.metadata.get("eventMessage") else [],
                exit_status=None, started_at=audit.utc_now(), reason=call.metadata.get("eventType"),
                args=[f"hook={call.hook}", f"canary={call.namespace}/{call.name}", f"checksum={call.checksum}"],
                environment_name=judge.env.name)
            record = audit.build_record(facts)
            record["who"] = {"user": "flagger", "via": "goldgate serve", "run": ""}
            await asyncio.get_running_loop().run_in_executor(None, audit.append, audit_log, record)
        return {"recorded": call.hook, "run": f"{call.namespace}/{call.name}", "phase": call.phase,
                "finished_runs": finished, "audit_log": str(audit_log) if audit_log else None}

    @guarded("argo")
    async def argo_web(request: Request) -> Response:
        call = argo.parse(await _json_body(request, cfg.max_body_bytes))
        body = await judge.answer(call.key, exact_revision=True, baseline=call.baseline)
        return _answer("argo", body, argo.status_for(body["verdict"]))

    @guarded("kayenta")
    async def kayenta_judge(request: Request) -> Response:
        result = kayenta.judge_request(judge.env, await _json_body(request, cfg.max_body_bytes))
        telemetry.verdicts[("kayenta", result["score"]["classification"])] += 1
        return JSONResponse(result)

    @guarded("runs")
    async def run_status(request: Request) -> Response:
        p = request.path_params
        key = RunKey.of(p["namespace"], p["workload"], p["revision"])
        run = judge.store.load(str(key))
        if run is None or not run.get("last"):
            raise BadRequestError("run", f"{key} is not a run this judge knows", status=404)
        return JSONResponse(run["last"])

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "environment": judge.env.name, "active_runs": judge.active_runs})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(telemetry.render(judge), media_type="text/plain; version=0.0.4")

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"no endpoint {request.method} {request.url.path}", "field": "path"},
                            status_code=getattr(exc, "status_code", 404))

    async def crashed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"the judge failed on this request: {type(exc).__name__}", "field": ""},
                            status_code=500)

    routes = [
        Route("/v1/flagger/{hook}", flagger_hook, methods=["POST"]),
        Route("/v1/argo", argo_web, methods=["POST"]),
        Route("/judge", kayenta_judge, methods=["POST"]),
        Route("/v1/runs/{namespace}/{workload}/{revision}", run_status, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await judge.close()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, Exception: crashed},
                    lifespan=lifespan)
    app.state.judge = judge
    app.state.telemetry = telemetry
    return app
