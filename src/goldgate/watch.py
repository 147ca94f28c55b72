"""``goldgate watch``: the guide's "monitor 2+ hours" after a deploy, as a command.

Every ``--interval`` seconds the §6.1 rollback triggers (error rate by sequential test,
p95 vs a baseline, health checks, free disk, OOM kills; p95 budget as an alert) are
evaluated on the pods of the Deployment's current revision, and one line of progress is
printed. The watch ends

* with exit status 0 at the end of a clean window (every trigger PASSed on data of the
  present: a PASS of an earlier evaluation never stands in for a stretch without traffic),
* with 1 on the first breach, after ``rollout undo`` if ``--allow-mutations`` was given
  (and ``--change`` for production), the reason printed either way,
* with 3 when the window ended undecided (too little traffic, a probe that could not
  measure): undecided is not clean,
* with 130 on Ctrl-C or SIGTERM, its state saved (run the same command again to resume),
* with 2 when it cannot start (bad environment, no cluster, refused flags).

The error-rate trigger is one test over the whole window (``--window`` is its horizon):
its false-rollback probability is bounded by ``error_rate_test.false_rollback`` for the
window whatever ``--interval`` is. Nothing serves beside the watched release, so it is the
lone test (:mod:`goldgate.criteria.lone_error_rate`): bursts are allowed for by the dispersion
measured on the release's own polls (the environment's ``default_dispersion`` until enough
polls), and a state saved by an older version starts the window afresh. The
p95-vs-baseline trigger needs ``--baseline-p95-ms`` (or a resumed one); without it the
window cannot end clean, unless the environment waives it (``strategy.baseline: none``).

It is bounded (the window; every API call has a timeout) and resumable: the state file
(``--state``, default ``.goldgate/watch/ENV.json``) keeps the elapsed time and the
error-rate test's counts after every evaluation, and a watch started again with the same
file continues the same window for the same revision (a new revision starts afresh).

Examples::

    goldgate watch --env production --allow-mutations --change CHG-123   # 2 h, guide values
    goldgate watch --env local --kubeconfig "$(goldgate sandbox kubeconfig)" --window 60 --interval 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldgate.children import stop_on_signals
from goldgate.config import Environment, EnvironmentFileError, load_environment
from goldgate.safety import MutationRefused, SafetyPolicy

__all__ = ["main", "register", "run_watch"]

EXIT_CLEAN, EXIT_BREACH, EXIT_SETUP, EXIT_UNDECIDED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("watch", help="monitor a deployed release against the rollback criteria",
                              description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--env", default="local", help="environment (environments/NAME.yaml); default local")
    p.add_argument("--environments-dir", default=None, help="folder of environment files")
    p.add_argument("--window", type=float, default=None,
                   help="seconds to watch (default: strategy.monitoring_window_s; guide: 7200)")
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between evaluations (default: strategy.evaluation_interval_s)")
    p.add_argument("--state", default=None,
                   help="state file to resume from and save to (default: .goldgate/watch/ENV.json)")
    p.add_argument("--baseline-p95-ms", type=float, default=None,
                   help="stored p95 baseline of the previous version (enables the 2x-baseline trigger)")
    p.add_argument("--allow-mutations", action="store_true", help="roll back automatically on a breach")
    p.add_argument("--change", default=None, help="change ticket, required to roll back production")
    p.add_argument("--kubeconfig", default=None, help="kubeconfig (default: the environment's kubernetes.kubeconfig; "
                   "for the sandbox: $(goldgate sandbox kubeconfig))")
    p.set_defaults(func=main)


# ----------------------------------------------------------------------------- state
def load_state(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(path: Path | None, state: dict[str, Any]) -> None:
    """Write atomically, so a watch killed mid-write leaves the previous state intact."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- core loop
def run_watch(*, env: Environment, kube: Any, safety: SafetyPolicy, source: Any, window_s: float, interval_s: float,
              state_path: Path | None, baseline_p95_s: float | None = None, out: Callable[[str], None] = print,
              sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> int:
    """The watch itself, with its collaborators passed in (the tests drive it directly)."""
    from goldgate.actions import kubernetes as actions
    from goldgate.probes.workloads import deployment_status, replicaset_hashes
    from goldgate.rollout.base import own_pods
    from goldgate.rollout.monitor import Group, Outcome, RollbackMonitor

    ns, name = env.kubernetes.namespace, env.kubernetes.deployment
    status = deployment_status(kube, ns, name)
    sel = own_pods(status.selector)
    revision_hash = replicaset_hashes(kube, ns, sel).get(status.revision, "")
    group = Group(f"deployment/{name} revision {status.revision}",
                  {**status.selector, **({"pod-template-hash": revision_hash} if revision_hash else {})}, ns)
    state = load_state(state_path)
    key = {"environment": env.name, "deployment": f"{ns}/{name}", "revision": status.revision}
    resumed = state.get("key") == key and state.get("status") in ("running", "interrupted")
    if state and not resumed:
        out(f"state file {state_path}: for {state.get('key')}, status {state.get('status')}; starting a new window")
    offset = float(state.get("elapsed_s", 0.0)) if resumed else 0.0
    baseline = baseline_p95_s if baseline_p95_s is not None else (state.get("baseline_p95_s") if resumed else None)
    gap = getattr(env.error_rate_test, "max_gap_s", None) or 3 * interval_s
    from goldgate.rollout.trading_monitor import trading_monitor

    # Nothing runs beside the watched release: its trading is held to the hard guards and the drawdown.
    trading = trading_monitor(env, kube, group, None)
    monitor = RollbackMonitor(env, kube, source, group, baseline_p95_s=baseline, clock=clock,
                              horizon_s=window_s, max_gap_s=gap, trading=trading)
    if resumed:
        monitor.error_rate.restore(state.get("error_rate", {}))
        if monitor.lone_latency is not None:
            monitor.lone_latency.restore(state.get("latency", {}))
    state = {"key": key, "status": "running", "window_s": window_s, "interval_s": interval_s,
             "elapsed_s": offset, "evaluations": int(state.get("evaluations", 0)) if resumed else 0,
             "baseline_p95_s": baseline, "started_at": state.get("started_at") if resumed else time.time()}
    out(f"watching {group} for {window_s:g}s every {interval_s:g}s"
        + (f" (resumed at {offset:.0f}s)" if resumed else "") + f" [{', '.join(status.images)}]")
    for note in monitor.notes:
        out(f"note: {note}")
    monitor.start()
    last = None
    try:
        while True:
            remaining = window_s - (offset + monitor.elapsed_s)
            if remaining <= 0 and last is not None:
                break
            sleep(max(0.0, min(interval_s, remaining)))
            last = monitor.evaluate()
            state.update(elapsed_s=round(offset + monitor.elapsed_s, 3), evaluations=state["evaluations"] + 1,
                         error_rate=monitor.error_rate.snapshot(), last=last.summary(),
                         **({"latency": monitor.lone_latency.snapshot()} if monitor.lone_latency else {}))
            out(f"[{offset + monitor.elapsed_s:7.1f}s/{window_s:g}s] " + last.summary().split("] ", 1)[-1])
            for alert in last.alerts:
                out(f"ALERT: {alert.message()}")
            if last.outcome is Outcome.ROLLBACK:
                state.update(status="breach", reason=last.reason())
                save_state(state_path, state)
                out(f"BREACH: {last.reason()}")
                _halt_first(env, kube, safety, trading, last.breaches, out)
                return _roll_back(env, kube, safety, actions, last.reason(), out, state, state_path)
            save_state(state_path, state)
    except KeyboardInterrupt:
        state.update(status="interrupted", elapsed_s=round(offset + monitor.elapsed_s, 3))
        save_state(state_path, state)
        out(f"interrupted at {state['elapsed_s']:.1f}s of {window_s:g}s"
            + (f"; resume with --state {state_path}" if state_path else ""))
        return EXIT_INTERRUPTED
    if last is not None and last.outcome is Outcome.PASS:
        state.update(status="clean", reason=last.reason())
        save_state(state_path, state)
        out(f"CLEAN: {window_s:g}s window passed: {last.reason()}")
        return EXIT_CLEAN
    reason = last.reason() if last is not None else "no evaluation ran"
    state.update(status="undecided", reason=reason)
    save_state(state_path, state)
    out(f"UNDECIDED: the window ended without a decision: {reason}")
    return EXIT_UNDECIDED


def _halt_first(env: Environment, kube: Any, safety: SafetyPolicy, trading: Any, breaches: Any,
                out: Callable[[str], None]) -> None:
    """A trading breach halts the release's trading (kill switch, verified) before the undo."""
    if trading is None or not safety.allow_mutations:
        return
    from goldgate.rollout.base import RolloutContext, RolloutReport
    from goldgate.rollout.trading_halt import halt_before_rollback

    report = RolloutReport("watch", "")
    verdict = halt_before_rollback(RolloutContext(env, kube, safety, None, log=out), report, trading, breaches)
    if verdict is not None:
        out(f"trading halt: {verdict.message()}")


def _roll_back(env: Environment, kube: Any, safety: SafetyPolicy, actions: Any, reason: str,
               out: Callable[[str], None], state: dict[str, Any], state_path: Path | None) -> int:
    from goldgate.probes.workloads import deployment_status

    if not safety.allow_mutations:
        out("not rolling back: pass --allow-mutations to roll back automatically")
        return EXIT_BREACH
    try:
        result = actions.rollout_undo(kube, safety, env.kubernetes.namespace, env.kubernetes.deployment,
                                      reason=reason)
    except MutationRefused as exc:
        out(f"not rolling back: {exc}")
        return EXIT_BREACH
    except Exception as exc:
        out(f"ROLLBACK FAILED: {exc}")
        state.update(rollback="failed", rollback_error=str(exc))
        save_state(state_path, state)
        return EXIT_BREACH
    out(f"rolled back: rollout undo to revision {result.details.get('to_revision')} "
        f"({', '.join(result.details.get('image') or [])})")
    deadline = time.monotonic() + env.strategy.rollout_timeout_s
    while time.monotonic() < deadline:
        st = deployment_status(kube, env.kubernetes.namespace, env.kubernetes.deployment)
        if st.complete:
            out(f"previous revision Ready: {st.ready_replicas}/{st.replicas} pods, revision {st.revision}")
            state.update(rollback="done", rollback_revision=st.revision)
            save_state(state_path, state)
            return EXIT_BREACH
        time.sleep(0.5)
    out(f"rollback started but not complete after {env.strategy.rollout_timeout_s:g}s")
    state.update(rollback="incomplete")
    save_state(state_path, state)
    return EXIT_BREACH


# ----------------------------------------------------------------------------- command
def main(args: argparse.Namespace) -> int:
    from goldgate.cli import project_root
    from goldgate.probes.kubernetes import KubernetesUnavailable, connect
    from goldgate.rollout.sources import metric_source

    root = project_root()
    try:
        env = load_environment(args.env, Path(args.environments_dir) if args.environments_dir else root / "environments")
    except EnvironmentFileError as exc:
        print(f"goldgate watch: {exc}", file=sys.stderr)
        return EXIT_SETUP
    window = args.window if args.window is not None else env.strategy.monitoring_window_s
    interval = args.interval if args.interval is not None else env.strategy.evaluation_interval_s
    if not (window > 0 and interval > 0):
        print("goldgate watch: --window and --interval must be positive", file=sys.stderr)
        return EXIT_SETUP
    safety = SafetyPolicy(env.name, env.production, allow_mutations=args.allow_mutations, change=args.change)
    if args.allow_mutations and safety.problems():
        print("goldgate watch: refusing to roll back: " + "; ".join(safety.problems()), file=sys.stderr)
        return EXIT_SETUP
    try:
        kube = connect(env.kubernetes, args.kubeconfig)
    except KubernetesUnavailable as exc:
        print(f"goldgate watch: {exc}", file=sys.stderr)
        return EXIT_SETUP
    # SIGINT and SIGTERM end the watch whatever this process inherited (nohup, a shell's &).
    try:
        with stop_on_signals():
            return run_watch(env=env, kube=kube, safety=safety, source=metric_source(env, kube), window_s=window,
                             interval_s=interval,
                             state_path=Path(args.state) if args.state else root / ".goldgate" / "watch" / f"{env.name}.json",
                             baseline_p95_s=args.baseline_p95_ms / 1000 if args.baseline_p95_ms else None,
                             out=lambda line: print(line, flush=True))
    except KubernetesUnavailable as exc:
        print(f"goldgate watch: {exc}", file=sys.stderr)
        return EXIT_SETUP
    finally:
        kube.close()
