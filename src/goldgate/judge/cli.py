"""``goldgate serve`` (the HTTP judge) and ``goldgate judge`` (one verdict, for Argo's job provider).

``goldgate serve --env NAME [--host 127.0.0.1] [--port 8080]`` answers Flagger, Argo
Rollouts and Kayenta (see :mod:`goldgate.judge.app`). It needs the environment's
``judge.token`` (a secret reference) unless it listens on loopback with ``--no-token`` or
with mutual TLS (``judge.tls.client_ca``: clients present a certificate that CA signed).

``goldgate judge --env NAME --namespace N --workload W --revision H [--wait 10m]`` judges
one run in this process, evaluating every ``strategy.evaluation_interval_s`` until a
verdict other than INCONCLUSIVE/ERROR or until ``--wait`` is over, prints the JSON answer
on stdout and exits with:

====  ============================================================
0     PASS
1     FAIL (a measured breach that is not a hard guard)
2     the command could not start (bad environment, flags, no cluster)
3     INCONCLUSIVE (not enough evidence within --wait)
4     ROLLBACK (a §6.1 trigger or another hard guard breached)
5     ERROR (could not measure)
====  ============================================================

It shares the evidence store with ``goldgate serve`` (``judge.state``), so a job started
again for the same revision continues the same sequential test.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from goldgate.config import (
    Environment,
    EnvironmentFileError,
    SecretResolutionError,
    load_environment,
    resolve_secret,
)

__all__ = ["EXIT_CODES", "main_judge", "main_serve", "register"]

EXIT_CODES = {"PASS": 0, "FAIL": 1, "INCONCLUSIVE": 3, "ROLLBACK": 4, "ERROR": 5}
EXIT_SETUP = 2


def _duration(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text or "")
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 10m, 1h)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", default="local", help="environment (environments/NAME.yaml); default local")
    p.add_argument("--environments-dir", default=None, help="folder of environment files")
    p.add_argument("--kubeconfig", default=None, help="kubeconfig (default: the environment's kubernetes.kubeconfig; "
                   "for the sandbox: $(goldgate sandbox kubeconfig))")
    p.add_argument("--state", default=None, help="evidence store file (default: judge.store_url's PostgreSQL if "
                   "set, else judge.state, else .goldgate/judge/ENV.sqlite3)")


def register(subparsers: Any) -> None:
    s = subparsers.add_parser("serve", help="the HTTP judge for Flagger, Argo Rollouts and Kayenta",
                              description=__doc__.split("\n\n")[1] if __doc__ else None)
    _common(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    s.add_argument("--no-token", action="store_true", help="no bearer token (refused unless --host is loopback)")
    s.add_argument("--audit-log", default=None, help="audit trail for Flagger events (default reports/audit.jsonl)")
    s.set_defaults(func=main_serve)
    j = subparsers.add_parser("judge", help="judge one run and exit with its verdict (Argo Rollouts job provider)")
    _common(j)
    j.add_argument("--namespace", required=True)
    j.add_argument("--workload", required=True, help="the Deployment (or rollout) whose revision is judged")
    j.add_argument("--revision", required=True, help="pod-template hash (or Deployment revision number)")
    j.add_argument("--baseline", default=None, help="the stable workload to compare with (default: by convention)")
    j.add_argument("--wait", type=_duration, default=600.0, help="longest wait for a decision (default 10m)")
    j.set_defaults(func=main_judge)


def _load(args: argparse.Namespace, command: str) -> Environment | int:
    from goldgate.cli import project_root

    try:
        return load_environment(args.env, Path(args.environments_dir) if args.environments_dir
                                else project_root() / "environments")
    except EnvironmentFileError as exc:
        print(f"goldgate {command}: {exc}", file=sys.stderr)
        return EXIT_SETUP


def _setup(args: argparse.Namespace, command: str) -> tuple[Environment, Any, Any] | int:
    from goldgate.cli import project_root
    from goldgate.judge.store import StoreUnavailableError, open_store
    from goldgate.probes.kubernetes import KubernetesUnavailable, connect

    root = project_root()
    env = _load(args, command)
    if isinstance(env, int):
        return env
    # The store first: a judge that could not keep its evidence never starts judging.
    state = Path(args.state or env.judge.state or root / ".goldgate" / "judge" / f"{env.name}.sqlite3")
    try:
        url = resolve_secret(env.judge.store_url) if env.judge.store_url and not args.state else None
        store = open_store(url, state)
    except (SecretResolutionError, StoreUnavailableError) as exc:
        print(f"goldgate {command}: {env.source_file}: judge.store_url: {exc}", file=sys.stderr)
        return EXIT_SETUP
    try:
        kube = connect(env.kubernetes, args.kubeconfig)
    except KubernetesUnavailable as exc:
        print(f"goldgate {command}: {exc}", file=sys.stderr)
        store.close()
        return EXIT_SETUP
    return env, kube, store


def main_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from goldgate.judge.app import create_app
    from goldgate.judge.engine import Judge
    from goldgate.judge.tls import TlsSetupError, uvicorn_tls
    from goldgate.rollout.sources import metric_source

    token = None
    loopback = args.host == "localhost" or _is_loopback(args.host)
    if args.no_token and not loopback:
        print(f"goldgate serve: --no-token only on a loopback address, not {args.host}", file=sys.stderr)
        return EXIT_SETUP
    loaded = _load(args, "serve")
    if isinstance(loaded, int):
        return loaded
    mtls = loaded.judge.tls is not None and loaded.judge.tls.client_ca is not None
    if not args.no_token and not mtls:  # before any connection: a judge without its token never starts
        if loaded.judge.token is None:
            print(f"goldgate serve: {loaded.source_file}: judge.token: not set; every request must carry a token "
                  "(set a secret reference, e.g. env:GOLDGATE_JUDGE_TOKEN, or use --no-token on loopback)",
                  file=sys.stderr)
            return EXIT_SETUP
        try:
            token = resolve_secret(loaded.judge.token)
        except SecretResolutionError as exc:
            print(f"goldgate serve: {loaded.source_file}: judge.token: {exc}", file=sys.stderr)
            return EXIT_SETUP
    setup = _setup(args, "serve")
    if isinstance(setup, int):
        return setup
    env, kube, store = setup
    from goldgate.cli import project_root

    audit_log = Path(args.audit_log) if args.audit_log else project_root() / "reports" / "audit.jsonl"
    judge = Judge(env, kube, metric_source(env, kube), store)
    app = create_app(judge, token=token, audit_log=audit_log, client_certs=mtls)
    try:
        with uvicorn_tls(env.judge.tls) as tls:
            scheme = "https" if tls else "http"
            print(f"goldgate serve: judging for environment {env.name} on {scheme}://{args.host}:{args.port}"
                  f"{' (mutual TLS)' if mtls else ''} (evidence in {store.where})", flush=True)
            # Keep idle connections longer than Go's http.Transport (IdleConnTimeout 90 s), which both
            # controllers use: a server closing first races the client's next POST, which Go does not retry.
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                        timeout_keep_alive=95, **tls)
    except (TlsSetupError, SecretResolutionError) as exc:
        print(f"goldgate serve: {env.source_file}: {exc}", file=sys.stderr)
        return EXIT_SETUP
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main_judge(args: argparse.Namespace) -> int:
    from goldgate.judge.engine import Judge
    from goldgate.judge.runs import BadRequestError, RunKey
    from goldgate.probes.kubernetes import KubernetesUnavailable
    from goldgate.rollout.sources import metric_source

    setup = _setup(args, "judge")
    if isinstance(setup, int):
        return setup
    env, kube, store = setup
    judge = Judge(env, kube, metric_source(env, kube), store, workers=1)
    try:
        key = RunKey.of(args.namespace, args.workload, args.revision)
        run = judge.open_run(key, exact_revision=True, baseline=args.baseline)
    except BadRequestError as exc:
        print(f"goldgate judge: --{exc.field}: {str(exc).split(': ', 1)[-1]}", file=sys.stderr)
        return EXIT_SETUP
    except KubernetesUnavailable as exc:
        print(f"goldgate judge: {exc}", file=sys.stderr)
        return EXIT_SETUP
    deadline = time.monotonic() + max(0.0, args.wait)
    body = run.last or judge.pending_answer(run)
    try:
        while True:
            t0 = time.monotonic()
            body = judge.evaluate(run)
            print(f"[{body['evidence'].get('elapsed_s', 0):7.1f}s] {body['verdict']}: {body['reason'][:200]}",
                  file=sys.stderr, flush=True)
            if body["verdict"] in ("PASS", "FAIL", "ROLLBACK") or time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, min(judge.interval_s - (time.monotonic() - t0), deadline - time.monotonic())))
    finally:
        judge.pool.shutdown(wait=False)
        judge.open_pool.shutdown(wait=False)
        store.close()
        kube.close()
    print(json.dumps(body, indent=2))
    return EXIT_CODES.get(body["verdict"], 5)
