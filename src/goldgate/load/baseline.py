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
rate), or the comparison would be meaningless.
"""

from __future__ import annotations

import json
from pathlib import Path

from goldgate.criteria.load import LoadMeasurement
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult
from goldgate.verdict import Evidence


class BaselineError(Exception):
    """No usable baseline; the message says where goldgate looked and why it failed."""


def save(path: Path, result: LoadResult) -> Path:
    """Store a run of the stable version as the baseline for later runs."""
    stats = result.stats
    data = {
        "label": result.plan.label, "target": result.plan.target_url, "model": result.plan.model,
        "rate_rps": result.plan.rate_rps, "users": result.plan.users, "duration_s": result.plan.duration_s,
        "requests": stats.requests, "errors": stats.failures, "p95_ms": stats.p95_ms,
        "p99_ms": stats.total.p99_ms, "recorded_at": result.started,
    }
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
    )
