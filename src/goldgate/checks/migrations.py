"""An alembic project judged by the guide's §3 rules, on a scratch database, never its own.

``goldgate check migrations PATH`` (an ``alembic.ini`` or the folder holding it) walks the
history on a scratch database — a temporary SQLite file unless ``--url`` or ``--env``
names one — and judges six rules: ``single-head``, ``upgrade``, ``reversible``,
``models-match`` (NOT RUN without ``--models``), ``backward-compatible`` (NOT RUN without
``--previous-sql``) and ``descriptive-names``. The project's own database (the
``sqlalchemy.url`` of its ini, or whatever its env.py reads) is never touched: env.py is
handed the scratch URL, and goldgate proves the migrations landed there before the first
downgrade.

A ``--url`` must be a scratch database: a SQLite file that does not exist or holds no
table, or a PostgreSQL database holding no table or view (goldgate creates its own schema
inside it and drops it afterwards). Any other URL is refused and nothing is written.

The project's code runs in a child process: each env.py run (and loading the history)
gets ``--timeout`` seconds (default ``release.migrations_timeout_s`` of ``--env``, else
120); past it the process is ended, the scratch database removed, and ``upgrade`` is
ERROR naming env.py and the limit. When the walk cannot be made at all (env.py raises
before any migration step, never returns, or migrates elsewhere), the cause is reported
once, on ``upgrade`` (for env.py: its ``file:line`` and the exception); ``reversible``,
``models-match`` and ``backward-compatible`` are then NOT RUN "… (see upgrade)": they
were not measured, and the one ERROR already makes the exit code 2.

Examples::

    goldgate check migrations .
    goldgate check migrations services/orders/alembic.ini --models orders.db:metadata --previous-sql v1.1.0.sql
    goldgate check migrations . --url postgresql+psycopg://ci@127.0.0.1/scratch --url-env DATABASE_URL
    goldgate check migrations . --env staging --format sarif
    goldgate check migrations . --timeout 30
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldgate.checks.output import CheckInputError, Finding
from goldgate.config import (
    EnvironmentFileError,
    SecretResolutionError,
    load_environment,
    resolve_secret,
)
from goldgate.criteria import migrations as crit
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes import migrations as probe
from goldgate.probes.artifacts import ArtifactUnavailable
from goldgate.probes.migrations.isolation import DEFAULT_TIMEOUT_S
from goldgate.verdict import Status, Verdict

#: the feature's wording, guide §3.2 "descriptive names"
DEFAULT_MIN_WORDS = 3
UNAVAILABLE = (ArtifactUnavailable,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="alembic.ini, or the folder holding it")
    parser.add_argument("--url", metavar="URL", help="scratch database (default: a temporary SQLite file)")
    parser.add_argument("--env", metavar="NAME", help="read database.scratch_url (and release.models) from "
                                                      "environments/NAME.yaml")
    parser.add_argument("--environments-dir", metavar="DIR", default="environments",
                        help="where --env looks (default environments/)")
    parser.add_argument("--models", metavar="MODULE:ATTRIBUTE", help="the project's SQLAlchemy MetaData, for models-match")
    parser.add_argument("--previous-sql", metavar="FILE", help="the previous release's queries, for backward-compatible")
    parser.add_argument("--url-env", metavar="VAR", action="append", default=[],
                        help="an environment variable the project's env.py reads its URL from (repeatable)")
    parser.add_argument("--min-words", type=int, default=DEFAULT_MIN_WORDS, metavar="N",
                        help=f"meaningful words a revision message needs (default {DEFAULT_MIN_WORDS})")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="limit of each env.py run, after which its process is ended and the scratch database "
                             f"removed (default: release.migrations_timeout_s of --env, else {DEFAULT_TIMEOUT_S:g})")


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    """What the command line asks for, or CheckInputError saying which part is unusable."""
    path = Path(args.path)
    if not path.exists():
        raise CheckInputError(f"{path}: no such file or folder")
    previous = Path(args.previous_sql) if args.previous_sql else None
    if previous is not None and not previous.is_file():
        raise CheckInputError(f"--previous-sql {previous}: no such file")
    url, models, url_env = args.url, args.models, list(args.url_env)
    timeout = args.timeout
    if args.env:
        try:
            env = load_environment(args.env, Path(args.environments_dir))
            ref = env.database.scratch_url
            url = url or (resolve_secret(ref) if ref else None)
        except (EnvironmentFileError, SecretResolutionError) as exc:
            raise CheckInputError(str(exc)) from None
        models = models or getattr(env.release, "models", None)
        url_env = url_env or list(getattr(env.release, "migrations_url_env", None) or [])
        if timeout is None:
            timeout = getattr(env.release, "migrations_timeout_s", None)
    if args.min_words < 1:
        raise CheckInputError(f"--min-words {args.min_words}: must be at least 1")
    timeout = DEFAULT_TIMEOUT_S if timeout is None else timeout
    if not (0 < timeout < float("inf")):
        raise CheckInputError(f"--timeout {args.timeout}: must be a positive number of seconds")
    return {"path": path, "url": url, "models": models, "previous": previous, "url_env": url_env,
            "timeout": timeout}


def _once(measure: Callable[[], Any]) -> Callable[[], Any]:
    """Measure on first use; later calls return the same value or raise the same exception."""
    box: list[Any] = []

    def cached() -> Any:
        if not box:
            try:
                box.append((measure(), None))
            except UNAVAILABLE as exc:
                box.append((None, exc))
        value, exc = box[0]
        if exc is not None:
            raise exc
        return value

    return cached


def _failing_file(rule: str, verdict: Verdict, walk: Any, ini: str) -> str:
    """The revision file a FAIL is about, so SARIF points into the history, not at the ini."""
    if verdict.status is not Status.FAIL:
        return ini
    if rule == "upgrade" and walk is not None and walk.upgrade_failure:
        return walk.upgrade_failure.file
    if rule == "reversible" and walk is not None:
        bad = [r for r in walk.reversals if not r.ok]
        return bad[0].file if len(bad) == 1 else ini
    return ini


def run(args: argparse.Namespace) -> list[Finding]:
    given = _inputs(args)
    path = given["path"]
    try:
        ini = str(probe.find_ini(path))
    except ArtifactUnavailable:
        ini = str(path / "alembic.ini" if path.is_dir() else path)
    scripts = _once(lambda: probe.read_scripts(path))

    def measure_walk() -> probe.Walk:
        return probe.walk(path, given["url"], url_env_vars=given["url_env"], models=given["models"],
                          previous_sql=given["previous"], timeout_s=given["timeout"])

    walk = _once(measure_walk)
    unwalked = ""  # why the rules after upgrade were not run: the walk's failure, said once on upgrade
    try:  # a --url that is not a scratch database stops the command before anything else
        walk()
    except probe.ScratchRefused as exc:
        raise CheckInputError(f"--url {exc}") from None
    except UNAVAILABLE as exc:
        env_py = isinstance(exc, probe.EnvPyUnloadable | probe.MigrationTimeout)
        unwalked = "env.py could not be loaded (see upgrade)" if env_py else "the walk could not be made (see upgrade)"
    previous = given["previous"].stem if given["previous"] else ""
    rules: list[tuple[str, Callable[[], Any], Callable[[Any], Verdict], str]] = [
        ("single-head", scripts, crit.single_head, ""),
        ("upgrade", walk, crit.upgrade_clean, ""),
        ("reversible", walk, crit.reversible, ""),
        ("models-match", walk, crit.models_match,
         "" if given["models"] else "no --models module:attribute given (nor release.models in the environment)"),
        ("backward-compatible", walk, lambda w: crit.backward_compatible(w, previous),
         "" if given["previous"] else "no --previous-sql file given"),
        ("descriptive-names", scripts, lambda s: crit.descriptive_names(s, args.min_words), ""),
    ]
    findings = []
    for rule, measure, judge, not_run in rules:
        if not not_run and unwalked and measure is walk and rule != "upgrade":
            not_run = unwalked
        if not_run:
            findings.append(Finding(file=ini, rule=rule, verdict=None, kind="alembic", not_run=not_run))
            continue
        verdict = measure_and_judge(rule, measure, judge, UNAVAILABLE)
        done = _peek(walk)
        findings.append(Finding(file=_failing_file(rule, verdict, done, ini), rule=rule, verdict=verdict,
                                kind="alembic", name=Path(ini).parent.name))
    return findings


def _peek(cached: Callable[[], Any]) -> Any:
    try:
        return cached()
    except UNAVAILABLE:
        return None
