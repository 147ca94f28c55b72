"""The reference bot's request log (``BOT_REQUEST_LOG``): one JSON line per request.

Each line holds ``ts``, ``route``, ``method``, ``status`` and ``duration_ms``, the same
server-side duration the bot's latency histogram observes. Exact percentiles over these
durations are the truth the bucketed quantiles and the load generator are measured against.
"""

from __future__ import annotations

import json
from pathlib import Path

from goldgate.probes.artifacts import ArtifactUnavailable, read_text


def server_durations_ms(path: Path, *, since: float = 0.0, route_prefix: str = "") -> list[float]:
    """Sorted durations (ms) of the requests logged at or after ``since`` on routes under ``route_prefix``."""
    out = []
    for number, line in enumerate(read_text(path, "request log").splitlines(), start=1):
        try:
            rec = json.loads(line)
            if rec["ts"] >= since and str(rec["route"]).startswith(route_prefix):
                out.append(float(rec["duration_ms"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactUnavailable(path, f"line {number}: not a request record: {exc}") from None
    return sorted(out)
