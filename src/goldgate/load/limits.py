"""The load generator's own limits, read from the environment's ``load`` section.

A load verdict is only as good as the instrument: when locust's process is pegged, falls
behind its timetable or sends far fewer requests than planned, it measured itself. How
much the instrument may strain before its numbers are distrusted is the environment's
choice (a bigger generator host tolerates more); the values below apply when the
environment file does not set them:

=============================  =====  =============================================
field (``load.``)              value  meaning
=============================  =====  =============================================
``generator_max_cpu_percent``  90     median CPU of the busiest generator, % of a core
``generator_min_completion``   0.9    share of the planned open-model arrivals sent
``generator_max_send_lag_ms``  100    p95 of how late the open-model timetable sent
=============================  =====  =============================================
"""

from __future__ import annotations

from typing import Any

from goldgate.criteria.load import GeneratorLimits

__all__ = ["DEFAULTS", "generator_limits"]

DEFAULTS = GeneratorLimits(max_cpu_percent=90.0, min_completion=0.9, max_send_lag_ms=100.0)


def generator_limits(profile: Any) -> GeneratorLimits:
    """The limits of an environment's load profile, each falling back to :data:`DEFAULTS`."""
    return GeneratorLimits(
        max_cpu_percent=float(getattr(profile, "generator_max_cpu_percent", DEFAULTS.max_cpu_percent)),
        min_completion=float(getattr(profile, "generator_min_completion", DEFAULTS.min_completion)),
        max_send_lag_ms=float(getattr(profile, "generator_max_send_lag_ms", DEFAULTS.max_send_lag_ms)),
    )
