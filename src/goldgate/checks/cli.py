"""``goldgate check KIND …``: routes to the check modules and prints their findings."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from goldgate.checks.output import FORMATS, CheckInputError, exit_code, render

#: kind → module with ``add_arguments(parser)`` and ``run(args) -> list[Finding]``
KINDS = {
    "manifests": "goldgate.checks.manifests",
    "migrations": "goldgate.checks.migrations",
    "artifacts": "goldgate.checks.artifacts",
}


def register(sub: Any) -> None:
    parser = sub.add_parser("check", help="judge manifests, migrations or CI artifacts by the guide's rules")
    kinds = parser.add_subparsers(dest="check_kind", metavar="KIND")
    kinds.required = True
    for kind, module_name in KINDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        p = kinds.add_parser(kind, help=(module.__doc__ or kind).strip().splitlines()[0])
        p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
        p.add_argument("--verbose", action="store_true", help="also list the rules that passed (text format)")
        module.add_arguments(p)
        p.set_defaults(func=lambda args, module=module, kind=kind: _run(module, kind, args))


def _run(module: Any, kind: str, args: argparse.Namespace) -> int:
    try:
        findings = module.run(args)
    except CheckInputError as exc:  # unusable command-line input: one line, no traceback
        print(f"goldgate check {kind}: {exc}", file=sys.stderr)
        return 2
    print(render(findings, args.format, tool=f"check {kind}", verbose=args.verbose))
    return exit_code(findings)
