"""Feature flags: every new feature ships dark behind a killswitch read at call time."""

from __future__ import annotations

import os

DEFAULTS = {
    "adaptive_stop_loss": False,
    "order_idempotency": True,
}


def enabled(name: str, environ: dict[str, str] | None = None) -> bool:
    """``FLAG_<NAME>=on|off`` overrides the default, so a flag flips without a redeploy."""
    if name not in DEFAULTS:
        raise KeyError(name)
    env = os.environ if environ is None else environ
    raw = env.get(f"FLAG_{name.upper()}", "").strip().lower()
    if raw in ("on", "true", "1"):
        return True
    if raw in ("off", "false", "0"):
        return False
    return DEFAULTS[name]
