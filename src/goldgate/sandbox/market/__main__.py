"""``python -m goldgate.sandbox.market --port N``: serve the market feed on loopback.

Exit status 0 after SIGTERM/SIGINT, 1 when the port cannot be bound, 2 on a bad argument.
With ``--parent PID`` the feed stops by itself once that process is gone (a sandbox daemon
killed with SIGKILL cannot stop its feed), so no feed outlives its sandbox.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

from goldgate.sandbox.market import bars

PARENT_POLL_S = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m goldgate.sandbox.market",
                                     description="The sandbox's replayable market bar feed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=bars.DEFAULT_SEED)
    parser.add_argument("--bar-s", type=float, default=bars.DEFAULT_BAR_S)
    parser.add_argument("--closed", action="store_true", help="start with the market closed")
    parser.add_argument("--parent", type=int, default=None, help="stop when this process is gone")
    parser.add_argument("--state-dir", default=None, help="the sandbox served (names the process for clean-up)")
    args = parser.parse_args(argv)
    if not args.bar_s > 0:
        print(f"market feed: --bar-s={args.bar_s} is invalid: must be > 0", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvicorn

    from goldgate.sandbox.market.server import Feed, build_app

    app = build_app(Feed(args.seed, args.bar_s, closed=args.closed))
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, lifespan="off",
                                           access_log=False, log_level="warning"))
    if args.parent:
        _watch_parent(args.parent)
    try:
        server.run()
    except SystemExit:
        return 1
    return 0 if server.started else 1


def _watch_parent(parent: int) -> None:
    """SIGTERM ourselves (a graceful uvicorn stop) once ``parent`` is no longer our parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
