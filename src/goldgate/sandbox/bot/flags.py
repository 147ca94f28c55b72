"""The bot's feature flags, evaluated through the Unleash client when a flag server is given.

The release's features (``order_idempotency``, ``adaptive_stop_loss``; see its
``flags.yaml`` and changelog) ship behind kill switches. With ``UNLEASH_URL`` and
``UNLEASH_API_TOKEN`` the bot asks Unleash (PyPI ``UnleashClient``) at every use, with a
short refresh interval so a flag turned off reaches the pod within seconds, and a short
metrics interval so the server's usage counts show the pod evaluating its flags. Without a
server the release's defaults hold.

``FAULT_IGNORE_FLAGS`` is the rehearsal of a kill switch that does not work: the bot keeps
the first value it evaluated for each flag and never reads a change again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("goldgate.bot.flags")

#: The release's features and their values without a flag server.
DEFAULTS = {"order_idempotency": True, "adaptive_stop_loss": False}
APP_NAME = "trading-bot"
REFRESH_INTERVAL_S = 1
METRICS_INTERVAL_S = 2


class Flags:
    """``enabled(name)``: the value now (or the first one, when changes are ignored)."""

    def __init__(self, client: Any | None, *, ignore_changes: bool = False) -> None:
        self.client = client
        self.ignore_changes = ignore_changes
        self._first: dict[str, bool] = {}
        self._last: dict[str, bool] = dict(DEFAULTS)
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        return "unleash" if self.client is not None else "defaults"

    def enabled(self, name: str) -> bool:
        default = DEFAULTS[name]
        value = default
        if self.client is not None:
            try:
                value = bool(self.client.is_enabled(name, fallback_function=lambda *_: default))
            except Exception:  # a client failure keeps the release's default
                log.exception("flag %s: evaluation failed; default %s", name, default)
        with self._lock:
            if self.ignore_changes:
                value = self._first.setdefault(name, value)
            self._last[name] = value
        return value

    def snapshot(self) -> dict[str, bool]:
        """Every flag evaluated now (this also counts as usage on the server)."""
        return {name: self.enabled(name) for name in DEFAULTS}

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):  # shutting down; nothing left to report to
                self.client.destroy()


def from_env(environ: Mapping[str, str] | None = None, *, ignore_changes: bool = False) -> Flags:
    """A client for ``UNLEASH_URL`` (or none); initialised in the background, never blocking start."""
    env = os.environ if environ is None else environ
    url = env.get("UNLEASH_URL", "").strip()
    if not url:
        return Flags(None, ignore_changes=ignore_changes)
    from UnleashClient import UnleashClient

    for noisy in ("apscheduler", "UnleashClient"):  # a line per refresh otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)

    client = UnleashClient(
        url=url, app_name=APP_NAME, instance_id=env.get("HOSTNAME", "trading-bot"),
        refresh_interval=REFRESH_INTERVAL_S, metrics_interval=METRICS_INTERVAL_S,
        custom_headers={"Authorization": env.get("UNLEASH_API_TOKEN", "")},
        request_timeout=3, request_retries=1, verbose_log_level=logging.WARNING,
        cache_directory=env.get("BOT_DATA_DIR") or None,
    )
    threading.Thread(target=client.initialize_client, name="unleash-init", daemon=True).start()
    return Flags(client, ignore_changes=ignore_changes)
