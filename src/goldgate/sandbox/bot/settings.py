"""Operational settings of the reference bot (``BOT_*``, ``MARKET_*``, ``TRADING_SYMBOL``
and ``DATABASE_URL``).

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
from typing import Any

from goldgate.sandbox.bot import model
from goldgate.sandbox.bot.knobs import KnobError, number
from goldgate.sandbox.market.bars import DEFAULT_BAR_S, DEFAULT_SEED

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
    #: The market feed to read (``MARKET_FEED_URL``); None: bars generated in-process.
    market_feed_url: str | None = None
    market_seed: int = DEFAULT_SEED
    market_bar_s: float = DEFAULT_BAR_S
    #: Symbols the decision loop trades (``TRADING_SYMBOL``, comma-separated).
    symbols: tuple[str, ...] = ("XAUUSD",)
    #: Lots per order of the decision loop (``BOT_ORDER_VOLUME``).
    order_volume: float = 0.2
    #: The bot's own risk limit on its net position per symbol (``BOT_MAX_POSITION_LOTS``).
    max_position_lots: float = 2.0
    #: Bars a filled entry is held before the loop closes it (``BOT_HOLD_BARS``).
    hold_bars: int = 2
    #: Model version (``BOT_MODEL``), one of :data:`model.MODELS`.
    model_version: str = model.MODEL_VERSION
    #: Decisions kept in memory for ``/api/v1/decisions`` (``BOT_DECISIONS_KEEP``).
    decisions_keep: int = 20_000

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

        def num(name: str, default: float, **rng: Any) -> float:
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
        market_bar_s = num("MARKET_BAR_S", DEFAULT_BAR_S, low=0.01)
        order_volume = num("BOT_ORDER_VOLUME", 0.2, low=0, low_open=True)
        max_position = num("BOT_MAX_POSITION_LOTS", 2.0, low=0, low_open=True)
        hold_bars = int(num("BOT_HOLD_BARS", 2, low=1))
        decisions_keep = int(num("BOT_DECISIONS_KEEP", 20_000, low=100))
        seed = _integer("MARKET_SEED", get("MARKET_SEED"), DEFAULT_SEED)
        symbols = _symbols(get("TRADING_SYMBOL"))
        model_version = get("BOT_MODEL") or model.MODEL_VERSION
        if model_version not in model.MODELS:
            raise KnobError("BOT_MODEL", model_version, f"must be one of {sorted(model.MODELS)}")
        feed_url = get("MARKET_FEED_URL").rstrip("/")
        if feed_url and not feed_url.startswith(("http://", "https://")):
            raise KnobError("MARKET_FEED_URL", feed_url, "must be an http:// or https:// URL")

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
            market_feed_url=feed_url or None,
            market_seed=seed,
            market_bar_s=market_bar_s,
            symbols=symbols,
            order_volume=order_volume,
            max_position_lots=max_position,
            hold_bars=hold_bars,
            model_version=model_version,
            decisions_keep=decisions_keep,
        )


def _port(raw: str) -> int:
    if not raw:
        raise KnobError("BOT_PORT", raw, "required unless --port is given")
    try:
        return int(raw)
    except ValueError:
        raise KnobError("BOT_PORT", raw, "must be an integer") from None


def _integer(variable: str, raw: str, default: int) -> int:
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise KnobError(variable, raw, "must be an integer") from None


def _symbols(raw: str) -> tuple[str, ...]:
    """``TRADING_SYMBOL``: one symbol or several, comma-separated; each must be known."""
    if not raw:
        return ("XAUUSD",)
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in raw.split(",") if s.strip()))
    unknown = [s for s in symbols if s not in model.SYMBOLS]
    if not symbols or unknown:
        raise KnobError("TRADING_SYMBOL", raw, f"must name symbols among {sorted(model.SYMBOLS)}")
    return symbols
