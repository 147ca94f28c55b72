"""The baseline a release's p95 is held against (guide §6.1: p95 above 2x baseline).

Preferred: the stable version measured under the same load in the same run, so both
sides share the machine's noise. Where the stable version runs:

* ``http.standby_url`` of the environment (blue-green: the idle colour keeps the stable
  version);
* a stable release a plugin starts for the run (the ``stable_release`` fixture: a
  function of ``release.previous_version`` that returns a context manager yielding the
  stable version's URL and raising :class:`BaselineError` when it cannot be started).

Otherwise a stored baseline file (:func:`save` / :func:`load`) from an earlier run of
the stable version; it only counts when it was measured under the same load (model and
rate), or the comparison would be meaningless. The file keeps the stable version's server
p95 (``server``) and the client's timings on the compared routes with their overhead-floor
candidates (``client``) when they were known, so a later run compares like with like; a
file written before those were recorded still loads, and is then compared on its client
p95 alone, which the criterion calls INCONCLUSIVE (no overhead floor to subtract).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from goldgate.criteria.load import ClientTimings, LoadMeasurement, RouteSpread
from goldgate.load.client_timings import client_timings
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult
from goldgate.probes.metrics.base import DEFAULT_API_ROUTES
from goldgate.probes.server_timings import ServerTimings
from goldgate.verdict import Evidence


class BaselineError(Exception):
    """No usable baseline; the message says where goldgate looked and why it failed."""


def save(path: Path, result: LoadResult, server: ServerTimings | None = None,
         routes: str = DEFAULT_API_ROUTES) -> Path:
    """Store a run of the stable version as the baseline for later runs.

    ``server``: the stable version's server timings over the run, stored when usable;
    ``routes``: the routes both the client's and the server's numbers count.
    """
    stats = result.stats
    data: dict[str, Any] = {
        "label": result.plan.label, "target": result.plan.target_url, "model": result.plan.model,
        "rate_rps": result.plan.rate_rps, "users": result.plan.users, "duration_s": result.plan.duration_s,
        "requests": stats.requests, "errors": stats.failures, "p95_ms": stats.p95_ms,
        "p99_ms": stats.total.p99_ms, "recorded_at": result.started,
        "client": dataclasses.asdict(client_timings(result, routes)),
    }
    if server is not None and server.usable:
        data["server"] = {"p95_ms": server.p95_s * 1000, "requests": server.requests,  # type: ignore[operator]
                          "source": server.source, "routes": server.routes,
                          "min_ms": None if server.min_s is None else server.min_s * 1000,
                          "bucket_ms": None if server.interval is None else [x * 1000 for x in server.interval]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def load(path: Path, plan: LoadPlan) -> LoadMeasurement:
    """A stored baseline as a measurement; refuses one taken under a different load."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model, rate, p95, n = data["model"], float(data["rate_rps"]), data["p95_ms"], int(data["requests"])
    except OSError as exc:
        raise BaselineError(f"cannot read the stored baseline {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"stored baseline {path} is not usable: {type(exc).__name__}: {exc}") from None
    if model != plan.model or (model == "open" and abs(rate - plan.rate_rps) > 1e-6):
        raise BaselineError(
            f"stored baseline {path} was measured with the {model} model at {rate:g} req/s; "
            f"this run is the {plan.model} model at {plan.rate_rps:g} req/s — not the same load")
    return LoadMeasurement(
        label=f"stored baseline ({data.get('label', 'stable')})", model=model, requests=n,
        errors=int(data.get("errors", 0)), p95_ms=None if p95 is None else float(p95),
        evidence=(Evidence("stored baseline", str(path), samples=n, details=data),),
        client=_stored_client(path, data.get("client")), server=_stored_server(path, data.get("server")),
    )


def _number(value: object) -> float | None:
    """A stored number, or None for anything that is not a finite one (JSON null, text, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _spreads(raw: object) -> tuple[RouteSpread, ...]:
    """The stored routes' spreads; entries that are not a route, a count and two numbers are left out."""
    out = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict):
            continue
        answers, p95, fastest = item.get("answers"), _number(item.get("p95_ms")), _number(item.get("fastest_ms"))
        if isinstance(answers, int) and not isinstance(answers, bool) and answers >= 0 and None not in (p95, fastest):
            out.append(RouteSpread(str(item.get("route", "")), answers, float(p95), float(fastest)))  # type: ignore[arg-type]
    return tuple(out)


def _stored_client(path: Path, raw: object) -> ClientTimings | None:
    """The stored client timings; None for files written before they were (or broken ones)."""
    if not isinstance(raw, dict):
        return None
    requests = raw.get("requests")
    if not isinstance(requests, int) or isinstance(requests, bool):
        return None
    return ClientTimings(routes=str(raw.get("routes", DEFAULT_API_ROUTES)), p95_ms=_number(raw.get("p95_ms")),
                         requests=requests, min_ms=_number(raw.get("min_ms")),
                         cheapest_route=str(raw.get("cheapest_route") or ""),
                         cheapest_min_ms=_number(raw.get("cheapest_min_ms")),
                         spreads=_spreads(raw.get("spreads")))


def _stored_server(path: Path, raw: object) -> ServerTimings | None:
    """The stored server p95 as timings of the stored run; an unusable entry says why."""
    if raw is None:
        return None
    source = f"stored baseline {path}"
    if not isinstance(raw, dict):
        return ServerTimings(None, 0, source, error=f"stored server timings are {type(raw).__name__}, not a mapping")
    p95, requests = _number(raw.get("p95_ms")), raw.get("requests")
    if p95 is None or not isinstance(requests, int) or isinstance(requests, bool):
        return ServerTimings(None, 0, source, error=f"stored server timings are not usable: {raw!r}")
    min_ms = _number(raw.get("min_ms"))
    bucket = raw.get("bucket_ms")
    interval = None
    if isinstance(bucket, list) and len(bucket) == 2 and all(
            isinstance(b, int | float) and not isinstance(b, bool) for b in bucket):
        interval = (bucket[0] / 1000, bucket[1] / 1000)
    return ServerTimings(p95 / 1000, requests, f"{source}: {raw.get('source', 'server timings')}",
                         str(raw.get("routes", DEFAULT_API_ROUTES)),
                         min_s=None if min_ms is None else min_ms / 1000, interval=interval)
