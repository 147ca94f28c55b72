"""The guide's durations against the environment's: which one a verdict used, and whether it was scaled.

The guide asks for 30-minute canary phases (§2.2), 2 hours of monitoring (§2.1, §5.2),
an hour after a migration (§3.2) and a 15-minute RTO (§9.1). These are environment
values whose schema defaults are the guide's numbers (goldgate.config): production.yaml
keeps them, local.yaml scales them to seconds so that the whole suite runs on one machine.
A PASS over a 12-second phase is not a PASS over a 30-minute one, so every verdict that
rests on such a duration says which it used and, when it differs from the guide's, that
it was scaled and by which environment: "phase 12 s (guide: 30 min; scaled by environment
local)". The guide's value is read from the schema, never repeated here.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

__all__ = ["GUIDE_DURATIONS", "duration_text", "guide_seconds", "scaled_note"]

# environment field -> what the guide calls it (the word a verdict uses)
GUIDE_DURATIONS: dict[str, str] = {
    "strategy.canary_phase_s": "phase",
    "strategy.monitoring_window_s": "watch",
    "strategy.migration_monitor_s": "post-migration window",
    "recovery.rto_s": "RTO",
    "recovery.pitr_window_s": "PITR window",
}


def guide_seconds(dotted: str) -> float | None:
    """The guide's value of an environment duration: the schema's default for the field."""
    from goldgate.config import Environment

    model: Any = Environment
    default: Any = None
    for part in dotted.split("."):
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        info = fields[part]
        default = info.get_default(call_default_factory=True)
        model = info.annotation if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel) \
            else type(default)
    return float(default) if isinstance(default, int | float) and not isinstance(default, bool) else None


def duration_text(seconds: float) -> str:
    """``12 s``, ``30 min``, ``2 h``: the unit a reader would use."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return repr(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def scaled_note(environment: Any, dotted: str, used_s: float | None = None) -> str:
    """``phase 12 s (guide: 30 min; scaled by environment local)``, or ``phase 30 min`` when
    the environment keeps the guide's value. ``used_s`` defaults to the environment's value."""
    what = GUIDE_DURATIONS.get(dotted, dotted.rsplit(".", 1)[-1])
    if used_s is None:
        node: Any = environment
        for part in dotted.split("."):
            node = getattr(node, part, None)
        used_s = node if isinstance(node, int | float) and not isinstance(node, bool) else None
    if used_s is None:
        return ""
    guide = guide_seconds(dotted)
    if guide is None or math.isclose(float(used_s), guide):
        return f"{what} {duration_text(float(used_s))}"
    name = getattr(environment, "name", "?")
    return f"{what} {duration_text(float(used_s))} (guide: {duration_text(guide)}; scaled by environment {name})"
