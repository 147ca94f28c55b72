"""The bot's feature flags, evaluated through the Unleash client when a flag server is given.

The release's features (``order_idempotency``, ``adaptive_stop_loss``; see its
``flags.yaml`` and changelog) ship behind kill switches. With ``UNLEASH_URL`` and
``UNLEASH_API_TOKEN`` the bot asks Unleash (PyPI ``UnleashClient``) at every use, with a
short refresh interval so a flag turned off reaches the pod within seconds, and a short
metrics interval so the server's usage counts show the pod evaluating its flags. Without a
server the release's defaults hold.

``signal_model_ab`` is an A/B experiment: every signal request asks the client for its
variant (:meth:`Flags.variant`), with the request's id as Unleash's ``sessionId`` so the
split is per request, and the bot counts the answers per variant on ``/metrics``.

``FAULT_IGNORE_FLAGS`` is the rehearsal of a kill switch that does not work: the bot keeps
the first value it evaluated for each flag and never reads a change again.
``FAULT_VARIANT_SKEW`` is the rehearsal of an experiment whose split is ignored: every
request gets the first variant.
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
DEFAULTS = {"order_idempotency": True, "adaptive_stop_loss": False, "signal_model_ab": True}
#: A/B flags and the variant that answers without a flag server (or while the flag is off).
VARIANT_DEFAULTS = {"signal_model_ab": "A"}
APP_NAME = "trading-bot"
REFRESH_INTERVAL_S = 1
METRICS_INTERVAL_S = 2


class Flags:
    """``enabled(name)``: the value now (or the first one read, when changes are ignored).

    The client is made and started in a background thread (importing it takes a second on a
    busy machine, and a bot must listen before its liveness probe's first look); until it
    has fetched the server's flags, the release's defaults answer.
    """

    def __init__(self, client: Any | None = None, *, ignore_changes: bool = False, remote: bool = False,
                 skew_variants: bool = False) -> None:
        self.client = client
        self.remote = remote or client is not None
        self.ignore_changes = ignore_changes
        self.skew_variants = skew_variants
        self._first: dict[str, bool] = {}
        self._fetched = False
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        if not self.remote:
            return "defaults"
        return "unleash" if self._server_answered() else "defaults (flag server not read yet)"

    def _server_answered(self) -> bool:
        if not self._fetched and self.client is not None:
            try:
                self._fetched = bool(self.client.feature_definitions())
            except Exception:  # not initialised yet
                self._fetched = False
        return self._fetched

    def enabled(self, name: str) -> bool:
        default = DEFAULTS[name]
        if not self._server_answered():
            return default
        try:
            value = bool(self.client.is_enabled(name, fallback_function=lambda *_: default))  # type: ignore[union-attr]
        except Exception:  # a client failure keeps the release's default
            log.exception("flag %s: evaluation failed; default %s", name, default)
            value = default
        if self.ignore_changes:
            with self._lock:
                value = self._first.setdefault(name, value)
        return value

    def variant(self, name: str, request_id: str) -> str:
        """The variant of A/B flag ``name`` for one request (its id is the stickiness key)."""
        default = VARIANT_DEFAULTS[name]
        if self.skew_variants or not self._server_answered():
            return default
        try:
            answer = self.client.get_variant(name, context={"sessionId": request_id})  # type: ignore[union-attr]
        except Exception:  # a client failure keeps the release's default
            log.exception("flag %s: variant evaluation failed; default %s", name, default)
            return default
        chosen = answer.get("name") if isinstance(answer, dict) and answer.get("enabled") else None
        return str(chosen) if chosen else default

    def snapshot(self) -> dict[str, bool]:
        """Every flag evaluated now (this also counts as usage on the server)."""
        return {name: self.enabled(name) for name in DEFAULTS}

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):  # shutting down; nothing left to report to
                self.client.destroy()


def from_env(environ: Mapping[str, str] | None = None, *, ignore_changes: bool = False,
             skew_variants: bool = False) -> Flags:
    """Flags read from ``UNLEASH_URL`` (or the defaults); the client starts in the background."""
    env = dict(os.environ if environ is None else environ)
    url = env.get("UNLEASH_URL", "").strip()
    flags = Flags(None, ignore_changes=ignore_changes, remote=bool(url), skew_variants=skew_variants)
    if url:
        threading.Thread(target=_connect, args=(flags, url, env), name="unleash-init", daemon=True).start()
    return flags


def _connect(flags: Flags, url: str, env: Mapping[str, str]) -> None:
    try:
        from UnleashClient import UnleashClient

        # The client logs every failed poll with a traceback; silenced: /flags shows its source.
        for noisy in ("apscheduler", "UnleashClient", "urllib3.connectionpool"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        client = UnleashClient(
            url=url, app_name=APP_NAME, instance_id=env.get("HOSTNAME", "trading-bot"),
            refresh_interval=REFRESH_INTERVAL_S, metrics_interval=METRICS_INTERVAL_S,
            custom_headers={"Authorization": env.get("UNLEASH_API_TOKEN", "")},
            request_timeout=3, request_retries=0, verbose_log_level=logging.WARNING,
            cache_directory=env.get("BOT_DATA_DIR") or None,
        )
        client.initialize_client()
        flags.client = client
        log.info("feature flags from %s (refresh %ss)", url, REFRESH_INTERVAL_S)
    except Exception:
        log.exception("feature flags: the Unleash client did not start; the release's defaults hold")
