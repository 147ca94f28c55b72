"""``goldgate env check NAME...``: validate environment files without running anything.

Guide §4.1/§4.3: configs are validated before deployment. The same schema the pytest
plugin uses, so a file that passes here is a file ``--env`` accepts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from goldgate.config import EnvironmentFileError, available_environments, load_environment


def register(sub: argparse._SubParsersAction) -> None:
    env = sub.add_parser("env", help="validate environment files")
    env_sub = env.add_subparsers(dest="env_command", metavar="ACTION")
    env_sub.required = True
    check = env_sub.add_parser("check", help="validate environments/NAME.yaml (all when no NAME)")
    check.add_argument("names", nargs="*")
    check.add_argument("--dir", default=None, help="folder of environment files (default: ./environments)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from goldgate.cli import project_root

    directory = Path(args.dir) if args.dir else project_root() / "environments"
    names = args.names or available_environments(directory)
    if not names:
        print(f"goldgate: no environment files in {directory}", file=sys.stderr)
        return 4
    bad = 0
    for name in names:
        try:
            env = load_environment(name, directory)
        except EnvironmentFileError as exc:
            print(f"INVALID {exc}", file=sys.stderr)
            bad += 1
        else:
            print(f"ok      {env.source_file} (production: {str(env.production).lower()})")
    return 4 if bad else 0
