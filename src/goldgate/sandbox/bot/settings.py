"""Operational settings of the reference bot (``BOT_*`` and ``DATABASE_URL``).

These describe *where and how* the bot runs, as a pod's environment would; the faults a
release can carry live apart in :mod:`goldgate.sandbox.bot.knobs`. Bad values raise the
same :class:`KnobError` so the start-up path has one exit-2 rule for both.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from goldgate.sandbox.bot.knobs import KnobError, number

DEFAULT_VERSION = "0.0.0-dev"


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    version: str
    data_dir: Path
    data_dir_is_temporary: bool
    database_url: str
    warmup_s: float
    signal_base_ms: float
    request_log: Path | None
    graceful_timeout_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, host: str | None = None,
                 port: int | None = None) -> Settings:
        """Read settings; ``host``/``port`` (from CLI flags) win over the environment."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        resolved_port = port if port is not None else _port(get("BOT_PORT"))
        if not 1 <= resolved_port <= 65535:
            raise KnobError("BOT_PORT", str(resolved_port), "must be between 1 and 65535")

        def num(name: str, default: float, **rng: float) -> float:
            raw = get(name)
            if not raw:
                return default
            try:
                return number(**rng)(raw)
            except ValueError as exc:
                raise KnobError(name, raw, str(exc)) from None

        warmup_s = num("BOT_WARMUP_S", 0.5, low=0)
        signal_base_ms = num("BOT_SIGNAL_BASE_MS", 20.0, low=0)
        graceful_timeout_s = num("BOT_GRACEFUL_TIMEOUT_S", 30.0, low=0)
        request_log = get("BOT_REQUEST_LOG")

        # Created last, so a bad setting above never leaves an orphan temp dir behind.
        raw_dir = get("BOT_DATA_DIR")
        temporary = not raw_dir
        data_dir = Path(tempfile.mkdtemp(prefix="goldgate-bot-")) if temporary else Path(raw_dir)
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KnobError("BOT_DATA_DIR", raw_dir, f"cannot create: {exc.strerror}") from None
        return cls(
            host=host or get("BOT_HOST") or "127.0.0.1",
            port=resolved_port,
            version=get("BOT_VERSION") or DEFAULT_VERSION,
            data_dir=data_dir,
            data_dir_is_temporary=temporary,
            database_url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'bot.sqlite3'}",
            warmup_s=warmup_s,
            signal_base_ms=signal_base_ms,
            request_log=Path(request_log) if request_log else None,
            graceful_timeout_s=graceful_timeout_s,
        )


def _port(raw: str) -> int:
    if not raw:
        raise KnobError("BOT_PORT", raw, "required unless --port is given")
    try:
        return int(raw)
    except ValueError:
        raise KnobError("BOT_PORT", raw, "must be an integer") from None
