"""The ``goldgate`` command: sandbox control, environment checks, reports, watch, audit.

Each subcommand lives with the code it drives and registers itself here through a
``register(subparsers)`` function, so this module only routes. A subcommand whose module
is not installed is simply absent rather than a crash at start.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

#: Modules that contribute subcommands, in the order ``goldgate --help`` lists them.
SUBCOMMAND_MODULES = (
    "goldgate.sandbox.cli",
    "goldgate.envcheck",
    "goldgate.report.cli",
    "goldgate.watch",
    "goldgate.report.audit_cli",
    "goldgate.checks.cli",
    "goldgate.judge.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goldgate",
        description="Release gates for the XAUUSD trading bot (see README.md).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("goldgate: interrupted", file=sys.stderr)
        return 130


def project_root() -> Path:
    """The checkout goldgate runs in: the nearest folder upwards holding environments/."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "environments").is_dir():
            return folder
    return here


if __name__ == "__main__":
    raise SystemExit(main())
