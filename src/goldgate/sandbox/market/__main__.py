"""``python -m goldgate.sandbox.market --port N``: serve the market feed on loopback.

Exit status 0 after SIGTERM/SIGINT, 1 when the port cannot be bound, 2 on a bad argument.
"""

from __future__ import annotations

import argparse
import logging
import sys

from goldgate.sandbox.market import bars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m goldgate.sandbox.market",
                                     description="The sandbox's replayable market bar feed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=bars.DEFAULT_SEED)
    parser.add_argument("--bar-s", type=float, default=bars.DEFAULT_BAR_S)
    parser.add_argument("--closed", action="store_true", help="start with the market closed")
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
    try:
        server.run()
    except SystemExit:
        return 1
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
