"""``goldgate sandbox up|down|status|faults|kubeconfig|market|flags``.

:func:`register` adds the ``sandbox`` command to the main CLI's subparsers; every
subcommand is a thin wrapper over :mod:`goldgate.sandbox.lifecycle` and prints one
clear line per outcome (exit code 1 with the reason when something is wrong).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Sequence

from goldgate.sandbox import lifecycle


def _state_dir(args: argparse.Namespace) -> pathlib.Path:
    return pathlib.Path(args.state_dir).resolve() if args.state_dir else lifecycle.default_state_dir()


def _up(args: argparse.Namespace) -> int:
    notices: list[str] = []
    try:
        info = lifecycle.ensure_running(
            _state_dir(args), args.fault, port=args.port, timeout=args.timeout, api_only=args.api_only, notices=notices,
            regions=args.regions,
        )
    except lifecycle.SandboxError as exc:
        for notice in notices:
            print(notice)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for notice in notices:
        print(notice)
    if info.started:
        print(f"sandbox up (pid {info.pid}) at {info.url}, faults: {', '.join(info.faults) or 'none'}")
    print(f"kubeconfig: {info.kubeconfig}")
    if info.regions:
        print(f"global endpoint: {info.regions['global_url']} (primary {info.regions['primary_url']}, "
              f"secondary {info.regions['standby_url']}, context {info.regions['secondary_context']})")
    print(f"try: kubectl --kubeconfig {info.kubeconfig} get pods -l app=trading-bot")
    return 0


def _down(args: argparse.Namespace) -> int:
    print(lifecycle.stop(_state_dir(args)))
    return 0


def _status(args: argparse.Namespace) -> int:
    result = lifecycle.status(_state_dir(args))
    print(result.message)
    if result.info is not None and result.running:
        print(f"kubeconfig: {result.info.kubeconfig}")
        print(f"faults: {', '.join(result.info.faults) or 'none'}")
        if result.info.regions:
            print(f"global endpoint: {result.info.regions.get('global_url')}")
        if result.pods:
            width = max(len(p["name"]) for p in result.pods)
            print(f"{'POD'.ljust(width)}  READY  PHASE")
            for pod in result.pods:
                print(f"{pod['name'].ljust(width)}  {pod['ready'].ljust(5)}  {pod['phase']}")
    return 0 if result.running else 3


def _faults(_args: argparse.Namespace) -> int:
    try:
        from goldgate.sandbox.controllers import list_faults
    except ImportError as exc:
        print(f"error: sandbox controllers are not available: {exc}", file=sys.stderr)
        return 1
    from goldgate.sandbox.regions.pair import REGION_FAULTS

    faults = sorted([*list_faults(), *((n, f"{d} (needs --regions 2)") for n, d in REGION_FAULTS.items())])
    width = max((len(name) for name, _ in faults), default=0)
    for name, description in faults:
        print(f"{name.ljust(width)}  {description}")
    _print_knobs()
    return 0


def _print_knobs() -> None:
    """The bot's knobs (``kubectl set env deploy/trading-bot NAME=VALUE``) and faulty builds."""
    from goldgate.sandbox.bot.knobs import describe
    from goldgate.sandbox.controllers.images import FAULTY_BUILDS

    print("\nbot knobs (kubectl set env deploy/trading-bot NAME=VALUE):")
    rows = describe()
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['meaning']} (e.g. {row['example']})")
    print("\nfaulty builds (image tag suffix, e.g. trading-bot:v1.3.0-flip):")
    width = max(len(s) for s in FAULTY_BUILDS)
    for suffix, env in FAULTY_BUILDS.items():
        print(f"{suffix.ljust(width)}  {' '.join(f'{k}={v}' for k, v in env.items())}")


def _market(args: argparse.Namespace) -> int:
    from goldgate.sandbox.market import process as market

    state_dir = _state_dir(args)
    if lifecycle.find_running(state_dir) is None:
        print("error: no sandbox running; start one with `goldgate sandbox up`", file=sys.stderr)
        return 1
    url = market.feed_url(state_dir)
    if url is None:
        print(f"error: the sandbox in {state_dir} runs no market feed (see {state_dir / market.LOG_FILE})",
              file=sys.stderr)
        return 1
    try:
        status = market.control(url, args.action)
    except market.MarketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    state = "open" if status.get("open") else "closed"
    if args.action == "status":
        print(f"market {state} (feed {url}, bar {status.get('bar_s')} s, seed {status.get('seed')})")
    else:
        done = "" if status.get("changed") else " already"
        print(f"market{done} {state} (feed {url})")
    return 0


def _flags(args: argparse.Namespace) -> int:
    from goldgate.sandbox.flags import server as unleash

    if args.install:
        try:
            script = unleash.install()
        except unleash.UnleashError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"Unleash installed: {script}")
        return 0
    state = unleash.read_state(_state_dir(args) / "flags")
    if not state:
        installed = "installed" if unleash.installed() else "not installed (goldgate sandbox flags --install)"
        print(f"no flag server runs in this sandbox; Unleash is {installed}")
        return 3
    print(f"Unleash at {state.get('url')} ({'ready' if state.get('ready') else 'starting'}), "
          f"admin token in {state.get('admin_token_file')}")
    return 0


def _kubeconfig(args: argparse.Namespace) -> int:
    info = lifecycle.find_running(_state_dir(args))
    if info is None:
        print("error: no sandbox running; start one with `goldgate sandbox up`", file=sys.stderr)
        return 1
    print(info.kubeconfig)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add ``sandbox`` and its subcommands; each sets ``func`` returning an exit code."""
    parser = subparsers.add_parser("sandbox", help="the embedded Kubernetes-compatible sandbox cluster")
    parser.add_argument("--state-dir", default=None, help=f"state directory (default: ${lifecycle.DIR_ENV} or ./.goldgate/sandbox)")
    commands = parser.add_subparsers(dest="sandbox_command", required=True)
    up = commands.add_parser("up", help="start the sandbox (or reuse the running one)")
    up.add_argument("--fault", action="append", default=[], help="plant a named fault (repeatable; see `faults`)")
    up.add_argument("--port", type=int, default=0, help="API server port (default: a free port)")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the bot to be Ready")
    up.add_argument("--regions", type=int, choices=(1, 2), default=None,
                    help=f"default ${lifecycle.REGIONS_ENV} or 1; 2: a second region (own API server, bot and hot-standby PostgreSQL) behind a global "
                         "endpoint; region faults: standby-lag, secondary-not-ready, global-no-health-checks")
    up.add_argument("--api-only", action="store_true", help=argparse.SUPPRESS)
    up.set_defaults(func=_up)
    commands.add_parser("down", help="stop the sandbox and every pod process").set_defaults(func=_down)
    commands.add_parser("status", help="whether it runs, its port, kubeconfig and pods").set_defaults(func=_status)
    commands.add_parser("faults", help="list the faults `up --fault` accepts").set_defaults(func=_faults)
    commands.add_parser("kubeconfig", help="print the kubeconfig path").set_defaults(func=_kubeconfig)
    market = commands.add_parser("market", help="close or open the sandbox's market (no bars while closed), or show it")
    market.add_argument("action", choices=("close", "open", "status"))
    market.set_defaults(func=_market)
    flags = commands.add_parser("flags", help="the sandbox's Unleash flag server: install it, or show where it runs")
    flags.add_argument("--install", action="store_true", help="npm ci of the pinned tools/unleash into .goldgate/tools")
    flags.set_defaults(func=_flags)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="goldgate")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
