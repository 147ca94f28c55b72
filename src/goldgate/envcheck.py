"""``goldgate env check [--resolve] NAME...``: validate environment files without running anything.

Guide §4.1/§4.3: configs are validated before deployment. The same schema the pytest
plugin uses, so a file that passes here is a file ``--env`` accepts.

``--resolve`` also fetches every secret reference the file names — from the process
environment, files, Vault, AWS Secrets Manager or Kubernetes — exactly as a run would,
and lists each with its field path and whether it resolved (or why not), never the
value. A pipeline runs it before the gate so that a missing Vault role or an expired
token is one clear line, not a gate full of ERROR verdicts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from goldgate.config import (
    Environment,
    EnvironmentFileError,
    available_environments,
    load_environment,
)


def register(sub: argparse._SubParsersAction) -> None:
    env = sub.add_parser("env", help="validate environment files")
    env_sub = env.add_subparsers(dest="env_command", metavar="ACTION")
    env_sub.required = True
    check = env_sub.add_parser("check", help="validate environments/NAME.yaml (all when no NAME)")
    check.add_argument("names", nargs="*")
    check.add_argument("--dir", default=None, help="folder of environment files (default: ./environments)")
    check.add_argument("--resolve", action="store_true",
                       help="also resolve every secret reference (values are never printed); "
                            "exit 1 when one does not resolve")
    check.set_defaults(func=_check)
    schema = env_sub.add_parser("schema", help="print the environment file's JSON Schema (every field with its "
                                "type, default and meaning)")
    schema.set_defaults(func=_schema)


def _schema(args: argparse.Namespace) -> int:
    from goldgate.envschema import schema_text

    sys.stdout.write(schema_text())
    return 0


def _check(args: argparse.Namespace) -> int:
    from goldgate.cli import project_root

    directory = Path(args.dir) if args.dir else project_root() / "environments"
    names = args.names or available_environments(directory)
    if not names:
        print(f"goldgate: no environment files in {directory}", file=sys.stderr)
        return 4
    bad = unresolved = 0
    for name in names:
        try:
            env = load_environment(name, directory)
        except EnvironmentFileError as exc:
            print(f"INVALID {exc}", file=sys.stderr)
            bad += 1
            continue
        print(f"ok      {env.source_file} (production: {str(env.production).lower()})")
        bad += _check_manifest(env, directory)
        bad += _check_names(env, directory, project_root())
        if args.resolve:
            unresolved += _resolve_all(env)
    if bad:
        return 4
    return 1 if unresolved else 0


#: Collecting the whole suite takes seconds; a hung collection must not hang the check.
COLLECT_TIMEOUT_S = 300.0


def _check_names(env: Environment, directory: Path, root: Path) -> int:
    """Waiver and not_applicable entries name checks of this suite: asked of the run itself.

    Whether a name matches a check is decided when pytest collects the suite (the plugin's
    ``pytest_collection_modifyitems``); the same collection, with nothing written and
    nothing run, gives the same answer here, so what env check calls ok the run accepts.
    """
    import subprocess

    if not (env.waivers or env.not_applicable):
        return 0
    if not any((root / marker).is_file() for marker in ("conftest.py", "pyproject.toml", "pytest.ini")):
        print("        waiver and not_applicable names not checked: no pytest suite in this folder")
        return 0
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", f"--env={env.name}",
           f"--environments-dir={directory}", "--verdict-file=", "--audit-log=", "--junitxml=/dev/null"]
    try:
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=COLLECT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        print(f"INVALID {env.source_file}: collecting the suite to match waivers and not_applicable entries took "
              f"over {COLLECT_TIMEOUT_S:g} s", file=sys.stderr)
        return 1
    if done.returncode == 4:
        line = next((ln.removeprefix("ERROR: ") for ln in done.stderr.splitlines() if ln.strip()), "usage error")
        print(f"INVALID {line}", file=sys.stderr)
        return 1
    entries = len(env.waivers) + len(env.not_applicable)
    print(f"        {entries} waiver/not_applicable entr{'ies' if entries != 1 else 'y'} name checks of this suite")
    return 0


def _check_manifest(env: Environment, directory: Path) -> int:
    """Validate the release.yaml the environment names against release.schema.json."""
    from goldgate.release_schema import check_environment_manifest

    notes, problems = check_environment_manifest(env, directory)
    for line in notes:
        print(f"        {line}")
    for line in problems:
        print(f"INVALID {line}", file=sys.stderr)
    return 1 if problems else 0


def _resolve_all(env: Environment) -> int:
    """Resolve each reference of ``env`` with the run's resolver; print one line each."""
    from goldgate.secrets import SecretResolutionError, SecretResolver
    from goldgate.secrets.refs import references_in

    resolver = SecretResolver.for_environment(env)
    refs = references_in(env.model_dump(mode="json"))
    if not refs:
        print("        no secret references")
        return 0
    failed = 0
    try:
        for field, ref in refs:
            try:
                resolver.resolve(ref)
            except SecretResolutionError as exc:
                failed += 1
                cause = str(exc).removeprefix(f"secret reference {ref} not resolved: ")
                print(f"  FAILED   {field} = {ref} — {cause}")
            else:
                print(f"  resolved {field} = {ref}")
    finally:
        resolver.close()
    print(f"        {len(refs) - failed} of {len(refs)} secret references resolved")
    return failed
