"""A judge restarted mid-run continues the run's window: latency, pod restarts, OOM kills (no cluster).

The monitor is the real :class:`~goldgate.rollout.monitor.RollbackMonitor` over a scrape
source whose pods are in memory (their ``/metrics`` text built from seeded traffic) and pods
facts given by the test. A monitor restored from another's snapshot (through JSON, as the
judge's store keeps it) must judge every later evaluation as the monitor that never stopped;
one started afresh would not. A snapshot the monitor cannot continue starts the window again,
says why in one line and never passes on what it did not see.
"""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from goldgate.config import Environment, load_environment
from goldgate.criteria.resources import PodUsage
from goldgate.judge import engine as engine_module
from goldgate.judge.engine import Judge
from goldgate.judge.runs import RunKey
from goldgate.judge.store import RunStore
from goldgate.judge.targets import RunTarget
from goldgate.probes.metrics.scrape import ScrapeSource, StaticTargets, Target
from goldgate.probes.workloads import PodFact
from goldgate.rollout.monitor import (
    ERROR_RATE,
    HEALTH,
    OOM,
    P95_BASELINE,
    P95_BUDGET,
    Group,
    Outcome,
    RollbackMonitor,
)
from goldgate.verdict import Status

ROOT = Path(__file__).resolve().parents[2]
RELEASE = Group("bot@new", {"track": "canary"}, "trading")
STABLE = Group("bot@old", {"track": "stable"}, "trading")
BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.5, 1.0)


class Pods:
    """Both versions' pods: cumulative request and latency counters, served as ``/metrics`` text."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.counters: dict[str, dict[str, float]] = {"c-1": {}, "s-1": {}}
        self.started = time.time() - 3600

    def traffic(self, n: int, *, canary_s: float, stable_s: float = 0.03, canary_errors: float = 0.002) -> None:
        for pod, mean, err in (("c-1", canary_s, canary_errors), ("s-1", stable_s, 0.002)):
            c = self.counters[pod]
            for _ in range(n):
                took = self.rng.expovariate(1 / mean)
                code = "500" if self.rng.random() < err else "200"
                c[f'http_requests_total{{route="/api/v1/signal",code="{code}"}}'] = \
                    c.get(f'http_requests_total{{route="/api/v1/signal",code="{code}"}}', 0) + 1
                for le in (*BUCKETS, "+Inf"):
                    key = f'http_request_duration_seconds_bucket{{route="/api/v1/signal",le="{le}"}}'
                    c[key] = c.get(key, 0) + (1 if le == "+Inf" or took <= float(le) else 0)
                key = 'http_request_duration_seconds_count{route="/api/v1/signal"}'
                c[key] = c.get(key, 0) + 1

    def get(self, url: str, timeout: Any = None) -> Any:
        pod = url.split("//")[1].split(".")[0]
        lines = [f"process_start_time_seconds {self.started}"] + [f"{k} {v}" for k, v in self.counters[pod].items()]
        return SimpleNamespace(status_code=200, text="\n".join(lines) + "\n")


def _source(pods: Pods) -> ScrapeSource:
    """A fresh source each time: a restarted judge shares nothing in memory with the one before."""
    targets = StaticTargets([Target("http://c-1.invalid/metrics", {"track": "canary", "pod": "c-1"}),
                             Target("http://s-1.invalid/metrics", {"track": "stable", "pod": "s-1"})])
    return ScrapeSource(targets, session=pods)  # type: ignore[arg-type]


def _pod(restarts: int = 0, last: str = "", at: float | None = None) -> PodFact:
    return PodFact("c-1", {"track": "canary"}, "Running", True, False, 0.0, restarts, "", last, at)


@pytest.fixture
def env() -> Environment:
    return load_environment("local", ROOT / "environments")


def _monitor(env: Environment, pods: Pods, facts: dict[str, list[PodFact]], group: Group = RELEASE,
             **kw: Any) -> RollbackMonitor:
    return RollbackMonitor(env, kube=None, source=_source(pods), group=group, baseline=STABLE,  # type: ignore[arg-type]
                           pods=lambda sel: facts["pods"],
                           usage=lambda sel: [PodUsage("c-1", 0.1, 1.0, 1e8, 1e9)], **kw)


def _through_store(snap: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(snap))


def _seen(a: Any) -> list[tuple[str, str, Any]]:
    return [(v.criterion, v.status.name, v.observed) for v in a.verdicts
            if v.criterion in (P95_BASELINE, P95_BUDGET, ERROR_RATE, HEALTH, OOM)]


def _restarted(env: Environment, pods: Pods, facts: dict[str, list[PodFact]], before: RollbackMonitor) -> RollbackMonitor:
    """The monitor of a restarted judge: built anew, started, continued from the stored snapshot."""
    again = _monitor(env, pods, facts)
    again.start()
    again.error_rate.restore(_through_store(before.error_rate.snapshot()))
    assert again.restore(_through_store(before.snapshot())) == ""
    return again


def test_the_latency_window_continues_with_the_verdicts_of_a_judge_never_restarted(env: Environment) -> None:
    pods, facts = Pods(), {"pods": [_pod()]}
    steady, interrupted = _monitor(env, pods, facts), _monitor(env, pods, facts)
    steady.start()
    interrupted.start()
    # Slow canary first, fast after: over the whole window its p95 stays above twice the stable's.
    plan = [0.30] * 5 + [0.03] * 6
    for i, canary_s in enumerate(plan):
        pods.traffic(120, canary_s=canary_s)
        if i == 5:  # the judge restarts here: a fresh monitor, restored from the stored snapshot
            fresh = _monitor(env, pods, facts)
            fresh.start()
            interrupted = _restarted(env, pods, facts, interrupted)
        expected, got = steady.evaluate(), interrupted.evaluate()
        assert _seen(got) == _seen(expected), f"step {i}"
        if i >= 5:
            late = fresh.evaluate()
    final = {v.criterion: v for v in expected.verdicts}
    assert final[P95_BASELINE].status is Status.FAIL  # the slow half of the window still counts
    # ...where a window opened at the restart has seen only the fast half
    assert {v.criterion: v for v in late.verdicts}[P95_BASELINE].status is not Status.FAIL


def test_a_restart_before_the_judge_restart_still_counts_after_it(env: Environment) -> None:
    pods, facts = Pods(), {"pods": [_pod()]}
    before = _monitor(env, pods, facts)
    before.start()
    pods.traffic(100, canary_s=0.03)
    facts["pods"] = [_pod(restarts=3, last="Error")]  # the pod restarts while the first judge watches
    assert {v.criterion: v for v in before.evaluate().verdicts}[HEALTH].status is Status.FAIL
    after = _restarted(env, pods, facts, before)
    pods.traffic(100, canary_s=0.03)
    a = after.evaluate()
    health = {v.criterion: v for v in a.verdicts}[HEALTH]
    assert health.status is Status.FAIL and a.outcome is Outcome.ROLLBACK, a.summary()
    # a window opened at the restart would have taken the 3 restarts as its baseline
    fresh = _monitor(env, pods, facts)
    fresh.start()
    assert {v.criterion: v for v in fresh.evaluate().verdicts}[HEALTH].status is not Status.FAIL


def test_an_oom_kill_before_the_judge_restart_still_counts_after_it(env: Environment) -> None:
    pods, facts = Pods(), {"pods": [_pod()]}
    before = _monitor(env, pods, facts)
    before.start()
    before._started_wall -= 60  # the window opened a minute ago
    killed = time.time() - 30  # inside the window, long before the judge's restart
    facts["pods"] = [_pod(restarts=1, last="OOMKilled", at=killed)]
    pods.traffic(100, canary_s=0.03)
    before.evaluate()
    after = _restarted(env, pods, facts, before)
    oom = {v.criterion: v for v in after.evaluate().verdicts}[OOM]
    assert oom.status is Status.FAIL, oom.message()
    assert abs(after.window_opened_wall - before.window_opened_wall) < 1e-6
    fresh = _monitor(env, pods, facts)
    fresh.start()
    assert {v.criterion: v for v in fresh.evaluate().verdicts}[OOM].status is not Status.FAIL


def _broken(env: Environment, snap: dict[str, Any]) -> list[tuple[str, Any]]:
    other = env.model_copy(update={"thresholds": env.thresholds.model_copy(update={"min_requests": 7})})
    cases: list[tuple[str, Any]] = [("not an object", "garbage"), ("none", None), ("empty", {})]
    for field, value in [("version", 99), ("kind", "TradingMonitor"), ("group", "other (trading/app=x)"),
                         ("settings", "0" * 16), ("restarts0", {"c-1": -1}), ("restarts0", ["c-1"]),
                         ("ever_ready", "c-1"), ("seen_counts", [1]), ("seen_counts", [-1, 0]),
                         ("seen_elapsed", float("nan")), ("started_wall", time.time() + 3600),
                         ("started_wall", "yesterday"), ("window", None), ("window", {"opened_wall": 1.0}),
                         ("window", {"opened_wall": 1.0, "scrape": {"start": 1.0, "targets": [{"url": 1}]}}),
                         ("baseline_window", {"opened_wall": 1.0, "scrape": {"start": 1.0, "targets": "x"}})]:
        broken = copy.deepcopy(snap)
        broken[field] = value
        cases.append((f"{field}={value!r}", broken))
    cases.append(("other thresholds", ("env", other, snap)))
    return cases


def test_a_broken_snapshot_starts_the_window_again_says_why_and_never_passes(env: Environment) -> None:
    pods, facts = Pods(), {"pods": [_pod()]}
    before = _monitor(env, pods, facts)
    before.start()
    pods.traffic(400, canary_s=0.03)
    # the stored window passes the latency trigger on its 400 requests...
    assert {v.criterion: v for v in before.evaluate().verdicts}[P95_BASELINE].status is Status.PASS
    snap = _through_store(before.snapshot())
    for name, broken in _broken(env, snap):
        use_env = env
        if isinstance(broken, tuple):
            _, use_env, broken = broken
        again = _monitor(use_env, pods, facts)
        again.start()
        why = again.restore(broken)
        assert why and "\n" not in why and "Traceback" not in why, name
        a = again.evaluate()  # ...but a window that starts again has seen no traffic yet
        assert a.outcome is not Outcome.PASS, (name, a.summary())
        assert {v.criterion: v for v in a.verdicts}[P95_BASELINE].status is not Status.PASS, name


def test_the_judge_stores_the_window_and_says_what_continued(env: Environment, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pods, facts = Pods(), {"pods": [_pod()]}
    monkeypatch.setattr(engine_module, "resolve_target", lambda kube, key, **kw: RunTarget(RELEASE, STABLE))

    def judge(path: Path) -> Judge:
        return Judge(env, kube=None, source=None, store=RunStore(path), interval_s=1.0,  # type: ignore[arg-type]
                     monitor_factory=lambda env, kube, source, group, **kw: _monitor(env, pods, facts, group))

    key = RunKey("trading", "bot", "new")
    first = judge(tmp_path / "runs.sqlite3")
    run = first.open_run(key, exact_revision=True)
    facts["pods"] = [_pod(restarts=2, last="Error")]
    pods.traffic(200, canary_s=0.03)
    first.evaluate(run)
    again = judge(tmp_path / "runs.sqlite3")
    body = again.evaluate(again.open_run(key, exact_revision=True))
    notes = " ".join(body["evidence"]["notes"])
    assert "pod restart counts and OOM kills continued" in notes and "not re-baselined" in notes, notes
    assert body["verdict"] == "ROLLBACK", body  # the restart seen by the first judge still counts
    # a stored window that cannot be continued: said, counted from the restart, never a pass
    stored = RunStore(tmp_path / "runs.sqlite3").load(str(key))
    assert stored is not None
    stored["monitor"] = {**stored["monitor"], "version": 0}
    RunStore(tmp_path / "broken.sqlite3").save(str(key), stored)
    facts["pods"] = [_pod(restarts=2, last="Error")]
    third = judge(tmp_path / "broken.sqlite3")
    body = third.evaluate(third.open_run(key, exact_revision=True))
    notes = " ".join(body["evidence"]["notes"])
    assert "count from the restart: window snapshot version 0" in notes, notes
    assert body["verdict"] != "PASS"


class AskedSource:
    """A Prometheus-like source (asked about the last ``window_s`` seconds): the window it was asked for."""

    name = "prometheus"

    def __init__(self) -> None:
        self.windows: list[float] = []

    def request_counts(self, window_s: float, selector: Any) -> Any:
        from goldgate.probes.metrics import Measurement, RequestCounts

        self.windows.append(window_s)
        return Measurement("prometheus", "requests", 0.0, 500, window_s, counts=RequestCounts(500, 0))

    def latency_quantile(self, q: float, window_s: float, selector: Any) -> Any:
        from goldgate.probes.metrics import Measurement

        self.windows.append(window_s)
        return Measurement("prometheus", "p95", 0.05, 500, window_s)

    def instant(self, name: str, selector: Any) -> Any:
        from goldgate.probes.metrics import Measurement

        return Measurement("prometheus", name, 50.0, 1)


def test_with_prometheus_the_restored_window_asks_for_the_time_since_it_opened(env: Environment) -> None:
    facts = {"pods": [_pod()]}
    before = RollbackMonitor(env, kube=None, source=AskedSource(), group=RELEASE, baseline=STABLE,
                             pods=lambda sel: facts["pods"], usage=lambda sel: [])
    before.start()
    snap = _through_store(before.snapshot())
    for w in ("window", "baseline_window"):
        snap[w]["opened_wall"] -= 600  # as if opened ten minutes ago
    snap["started_wall"] -= 600
    again = RollbackMonitor(env, kube=None, source=(source := AskedSource()), group=RELEASE, baseline=STABLE,
                            pods=lambda sel: facts["pods"], usage=lambda sel: [])
    again.start()
    assert again.restore(snap) == ""
    again.evaluate()
    assert min(source.windows) >= 600 and again.elapsed_s >= 600
