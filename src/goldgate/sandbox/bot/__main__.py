"""``python -m goldgate.sandbox.bot``: start one bot process, as a pod's container would.

Exit status, which the sandbox kubelet and the tests read like a real container's:
0 after a graceful shutdown (SIGTERM/SIGINT: in-flight requests finish first),
1 when the crash-at-start fault fires or the server cannot start (port taken),
2 when a setting or fault knob is invalid (one line on stderr naming variable and value).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import time
from types import FrameType

from goldgate.sandbox.bot import PROCESS_STARTED
from goldgate.sandbox.bot.knobs import FaultKnobs, KnobError
from goldgate.sandbox.bot.settings import Settings

EXIT_OK, EXIT_CRASH, EXIT_USAGE = 0, 1, 2
CRASH_DELAY_S = 0.2

log = logging.getLogger("goldgate.bot")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m goldgate.sandbox.bot",
        description="Reference XAUUSD trading bot; configured by BOT_* and FAULT_* variables.")
    parser.add_argument("--host", help="listen address (overrides BOT_HOST)")
    parser.add_argument("--port", type=int, help="listen port (overrides BOT_PORT)")
    return parser.parse_args(argv)


def _ignore_after_capture(_sig: int, _frame: FrameType | None) -> None:
    """Installed before uvicorn runs: uvicorn re-raises the signal it shut down on, and
    this no-op absorbs it so a graceful stop exits 0 instead of dying by SIGTERM."""


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        knobs = FaultKnobs.from_env()
        if knobs.crash_at_start:
            time.sleep(CRASH_DELAY_S)
            print("trading-bot: crashing at start (FAULT_CRASH_AT_START)", file=sys.stderr)
            return EXIT_CRASH
        settings = Settings.from_env(host=args.host, port=args.port)
    except KnobError as exc:
        print(f"trading-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE

    try:
        return _serve(settings, knobs)
    finally:
        if settings.data_dir_is_temporary:
            shutil.rmtree(settings.data_dir, ignore_errors=True)


def _serve(settings: Settings, knobs: FaultKnobs) -> int:
    # Heavy imports only here: a bad knob or the crash fault must fail fast without them.
    import uvicorn
    from sqlalchemy.exc import ArgumentError

    from goldgate.sandbox.bot.app import build_app
    from goldgate.sandbox.bot.db import redacted

    try:
        app = build_app(settings, knobs, started=PROCESS_STARTED)
    except (ArgumentError, ImportError) as exc:
        reason = "unsupported or unparsable URL" if isinstance(exc, ArgumentError) else (
            f"driver not installed ({exc.name})")
        print(f"trading-bot: DATABASE_URL={redacted(settings.database_url)!r} is invalid: "
              f"{reason}", file=sys.stderr)
        return EXIT_USAGE

    log.info("trading-bot %s on %s:%d, database %s, faults %s", settings.version,
             settings.host, settings.port, redacted(settings.database_url),
             knobs.active() or "none")
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=settings.graceful_timeout_s,
    )
    server = uvicorn.Server(config)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _ignore_after_capture)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits 3 when it cannot bind; report it as a crash
        log.error("server could not start (uvicorn exit %s)", exc.code)
        return EXIT_CRASH
    if not server.started:
        log.error("server did not start")
        return EXIT_CRASH
    log.info("trading-bot stopped gracefully")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
