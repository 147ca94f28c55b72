"""Degenerate inputs of the health, resource, load and rollout-decision criteria.

Empty selections, counts a kubelet cannot report, NaN and infinite readings, limits that
are not numbers, runs without requests, reports without an outcome: none may PASS.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from goldgate.criteria.health import PodHealth
from goldgate.criteria.load import ClientTimings, GeneratorLimits, LoadMeasurement
from goldgate.criteria.resources import DiskReading, PodUsage
from goldgate.load.limits import DEFAULTS
from goldgate.probes.server_timings import ServerTimings
from goldgate.verdict import Status, Verdict

NOT_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])
NOT_A_READING = st.sampled_from([None, float("nan"), float("inf"), float("-inf"), -1.0])
NEGATIVE = st.integers(-5, -1)
NAMES = st.text("abc", min_size=1, max_size=3)
TEXT = st.text(max_size=20)


def _args(*args, **kwargs):
    return st.tuples(*args).map(lambda a: (a, {k: v for k, v in kwargs.items()}))


def _kw(args: tuple, **kwargs) -> st.SearchStrategy:
    return st.fixed_dictionaries(kwargs).map(lambda kw: (args, kw))


# ----------------------------------------------------------------------------- health
HEALTHY_POD = st.builds(PodHealth, name=NAMES, ready=st.just(True))
GARBAGE_POD = st.one_of(
    st.builds(PodHealth, name=NAMES, ready=st.just(True), restarts_in_window=NEGATIVE),
    st.builds(PodHealth, name=NAMES, ready=st.just(True), liveness_failures=NEGATIVE),
    st.builds(PodHealth, name=NAMES, ready=st.just(True), readiness_failures=NEGATIVE),
)
POD_LISTS = st.one_of(st.just([]), st.lists(GARBAGE_POD, min_size=1, max_size=3).flatmap(
    lambda bad: st.lists(HEALTHY_POD, max_size=3).map(lambda ok: ok + bad)))


def _health_checks():
    garbage = POD_LISTS.map(lambda pods: ((pods,), {"max_restarts": 0, "max_probe_failures": 0,
                                                    "max_unhealthy_pods": 0, "window_s": 60.0}))
    bad_tolerance = st.lists(HEALTHY_POD, min_size=1, max_size=3).flatmap(lambda pods: _kw(
        (pods,), max_restarts=NEGATIVE, max_probe_failures=st.just(0), max_unhealthy_pods=NEGATIVE,
        window_s=st.none()))
    return st.one_of(garbage, bad_tolerance)


def _startup_health():
    garbage = POD_LISTS.map(lambda pods: ((pods,), {"max_restarts": 0, "max_oom_kills": 0, "group": "g"}))
    bad_tolerance = st.lists(HEALTHY_POD, min_size=1, max_size=3).flatmap(lambda pods: _kw(
        (pods,), max_restarts=NEGATIVE, max_oom_kills=st.one_of(NEGATIVE, st.just(0)), group=st.just("g")))
    return st.one_of(garbage, bad_tolerance)


# ----------------------------------------------------------------------------- resources
DISK = st.builds(DiskReading, pod=NAMES, avail_bytes=NOT_A_READING,
                 size_bytes=st.one_of(NOT_A_READING, st.just(0.0), st.just(100.0)))
USAGE_CPU = st.builds(PodUsage, pod=NAMES, cpu_cores=NOT_A_READING,
                      cpu_limit_cores=st.one_of(NOT_A_READING, st.just(0.0), st.just(1.0)))
USAGE_MEM = st.builds(PodUsage, pod=NAMES, memory_bytes=NOT_A_READING,
                      memory_limit_bytes=st.one_of(NOT_A_READING, st.just(0.0), st.just(1e9)))
GOOD_USAGE = st.just(PodUsage("p", 0.1, 1.0, 1e6, 1e9))


def _free_disk():
    no_reading = st.lists(DISK, max_size=4).map(lambda v: ((v,), {"min_free_fraction": 0.1}))
    bad_limit = st.tuples(NOT_FINITE).map(lambda a: (([DiskReading("p", 50.0, 100.0)],),
                                                     {"min_free_fraction": a[0]}))
    return st.one_of(no_reading, bad_limit)


def _oom_kills():
    empty = st.just((([],), {"window_start": 0.0, "max_oom_kills": 0}))
    bad_start = NOT_FINITE.map(lambda t: (([PodHealth("p", True)],), {"window_start": t, "max_oom_kills": 0}))
    bad_tolerance = NEGATIVE.map(lambda n: (([PodHealth("p", True)],), {"window_start": 0.0, "max_oom_kills": n}))
    negative = NEGATIVE.map(lambda n: (([PodHealth("p", True, restarts_in_window=n)],),
                                       {"window_start": 0.0, "max_oom_kills": 0}))
    return st.one_of(empty, bad_start, bad_tolerance, negative)


def _usage(readings: st.SearchStrategy) -> st.SearchStrategy:
    no_reading = st.lists(readings, max_size=4).map(lambda u: ((u,), {"max_fraction": 0.8}))
    bad_limit = st.tuples(GOOD_USAGE, NOT_FINITE).map(lambda a: (([a[0]],), {"max_fraction": a[1]}))
    return st.one_of(no_reading, bad_limit)


# ----------------------------------------------------------------------------- load
def _measurement(**kw) -> st.SearchStrategy:
    base = {"label": st.just("release"), "model": st.sampled_from(["open", "closed"]),
            "requests": st.integers(0, 49), "errors": st.integers(0, 5),
            "p95_ms": st.one_of(st.none(), st.just(float("nan")), st.floats(0, 1e4)),
            "planned": st.none(), "generator_cpu": st.just(10.0), "send_lag_p95_ms": st.just(1.0)}
    return st.fixed_dictionaries({**base, **kw}).map(lambda d: LoadMeasurement(**d))


HEALTHY_RUN = _measurement(requests=st.just(500), errors=st.just(0), p95_ms=st.just(20.0))
BAD_LIMITS = st.one_of(
    NOT_FINITE.map(lambda x: GeneratorLimits(x, 0.9, 100.0)),
    st.sampled_from([0.0, 1.5, float("nan")]).map(lambda x: GeneratorLimits(90.0, x, 100.0)),
    st.sampled_from([0.0, -1.0, float("inf")]).map(lambda x: GeneratorLimits(90.0, 0.9, x)),
)


def _load_single(limit: st.SearchStrategy) -> st.SearchStrategy:
    thin = st.tuples(_measurement(), limit).map(lambda a: (a, {"min_requests": 50, "limits": DEFAULTS}))
    bad_limits = st.tuples(HEALTHY_RUN, limit, BAD_LIMITS).map(
        lambda a: ((a[0], a[1]), {"min_requests": 50, "limits": a[2]}))
    return st.one_of(thin, bad_limits)


def _load_baseline():
    thin_baseline = st.tuples(HEALTHY_RUN, _measurement(label=st.just("baseline")), st.just(2.0)).map(
        lambda a: (a, {"min_requests": 50, "limits": DEFAULTS}))
    bad_limits = st.tuples(HEALTHY_RUN, HEALTHY_RUN, st.just(2.0), BAD_LIMITS).map(
        lambda a: (a[:3], {"min_requests": 50, "limits": a[3]}))
    # server timings that are no reading (NaN, inf, negative, zero, thin, refused) and client
    # timings without a usable floor: neither side can be compared like with like
    bad_server = st.one_of(
        st.builds(ServerTimings, p95_s=st.one_of(NOT_A_READING, st.just(0.0)), requests=st.integers(0, 500),
                  source=st.just("s")),
        st.builds(ServerTimings, p95_s=st.floats(0.001, 10), requests=st.integers(0, 49), source=st.just("s")),
        st.builds(ServerTimings, p95_s=st.none(), requests=st.just(0), source=st.just("s"), error=TEXT),
        st.just("not timings"))
    bad_client = st.one_of(st.none(), st.builds(
        ClientTimings, routes=st.just("/api/.*"), p95_ms=st.floats(0, 1e4), requests=st.integers(50, 500),
        min_ms=st.none(), cheapest_route=st.just("GET /health"),
        cheapest_min_ms=st.one_of(NOT_A_READING, st.none(), st.just(1e5))))
    no_like_with_like = st.tuples(HEALTHY_RUN, HEALTHY_RUN, bad_client, bad_client, bad_server, bad_server).map(
        lambda a: ((replace(a[0], client=a[2]), replace(a[1], label="baseline", client=a[3]), 2.0),
                   {"min_requests": 50, "limits": DEFAULTS, "release_server": a[4], "baseline_server": a[5]}))
    return st.one_of(thin_baseline, bad_limits, no_like_with_like)


# ----------------------------------------------------------------------------- rollout decisions
STATUSES_NOT_FAIL = st.sampled_from([Status.PASS, Status.INCONCLUSIVE, Status.ERROR])
NOT_PASSED = st.sampled_from([Status.FAIL, Status.INCONCLUSIVE, Status.ERROR])


def _verdict(status: st.SearchStrategy) -> st.SearchStrategy:
    return status.map(lambda s: Verdict("x", s, observed=1, threshold=0, reason="r"))


OUTCOMES = st.sampled_from(["running", "rolled back", "rollback failed", "promotion failed", ""])


def _rollout_progress():
    bad_numbers = st.fixed_dictionaries({
        "ready": st.one_of(NEGATIVE, st.integers(0, 3)), "want": st.one_of(st.just(0), NEGATIVE),
        "waited_s": st.just(1.0), "deadline_s": st.just(10.0), "deadline_exceeded": st.booleans()})
    bad_time = st.fixed_dictionaries({
        "ready": st.integers(0, 5), "want": st.integers(1, 5), "waited_s": NOT_FINITE,
        "deadline_s": st.one_of(NOT_FINITE, st.just(10.0)), "deadline_exceeded": st.booleans()})
    return st.one_of(bad_numbers, bad_time).map(lambda kw: (("d",), kw))


CASES = {
    "health.health_checks": _health_checks(),
    "health.startup_health": _startup_health(),
    "resources.free_disk": _free_disk(),
    "resources.oom_kills": _oom_kills(),
    "resources.cpu_vs_limit": _usage(USAGE_CPU),
    "resources.memory_vs_limit": _usage(USAGE_MEM),
    "load.p95_latency_below": _load_single(st.just(500.0)),
    "load.error_rate_below": _load_single(st.just(0.01)),
    "load.p95_within_baseline": _load_baseline(),
    "load.run_not_possible": st.tuples(TEXT, TEXT).map(lambda a: (a, {})),
    "load.baseline_missing": st.tuples(TEXT).map(lambda a: (a, {})),
    "rollout.rollout_progress": _rollout_progress(),
    "rollout.quorum_kept": st.one_of(
        st.tuples(st.none(), st.integers(0, 3)).map(lambda a: (a, {"polls": 0})),
        st.tuples(NEGATIVE, st.integers(0, 3)).map(lambda a: (a, {"polls": 3})),
        st.tuples(st.integers(0, 3), st.integers(0, 3)).map(lambda a: (a, {"polls": 0}))),
    "rollout.pod_by_pod": st.one_of(
        st.just((([],), {"polls": 0, "old_gone": 0})),
        st.lists(TEXT, min_size=1, max_size=3).map(lambda v: ((v,), {"polls": 0, "old_gone": 0})),
        NEGATIVE.map(lambda n: (([],), {"polls": n, "old_gone": 0}))),
    "rollout.blue_backup": st.tuples(st.integers(-3, 3), st.one_of(st.just(0), NEGATIVE)).map(lambda a: (a, {})),
    "rollout.user_traffic": st.one_of(
        st.tuples(st.just(""), st.floats(1, 100)).map(lambda a: (a, {"on_this_machine": False})),
        st.tuples(st.just("http://bot.example"), st.one_of(NOT_FINITE, st.just(0.0), st.just(-5.0))).map(
            lambda a: (a, {"on_this_machine": False})),
        st.tuples(st.just("http://127.0.0.1:8080"), st.floats(1, 100)).map(lambda a: (a, {"on_this_machine": True}))),
    "rollout.trigger_fired": st.tuples(st.just("error rate"), st.one_of(st.none(), _verdict(STATUSES_NOT_FAIL))).map(
        lambda a: (a, {"outcome": "promoted", "trigger": None})),
    "rollout.rolled_back": st.one_of(
        st.tuples(OUTCOMES.filter(lambda o: o != "rolled back"), st.booleans()),
        st.tuples(st.just("rolled back"), st.just(False))).map(
        lambda a: (("rolling update", "rollout undo"), {"outcome": a[0], "reason": "", "action_done": a[1]})),
    "rollout.previous_revision_restored": st.one_of(
        st.just(((), {"images_before": (), "images_now": (), "complete": True, "ready": 3, "replicas": 3,
                      "http_status": 200})),
        st.sampled_from([None, 0, 500, 503]).map(lambda code: ((), {
            "images_before": ("bot:v1",), "images_now": ("bot:v1",), "complete": True, "ready": 3,
            "replicas": 3, "http_status": code, "http_error": "refused"}))),
    "rollout.promoted": st.tuples(OUTCOMES, st.one_of(st.none(), _verdict(NOT_PASSED))).map(
        lambda a: (("promoted?",), {"outcome": a[0], "reason": "", "trigger": a[1]})),
    "rollout.canary_phases": st.one_of(
        st.just(([], []))).map(lambda a: (a, {"phase_s": 1.0, "outcome": "", "reason": "", "trigger": None})),
    "rollout.held_without_traffic": st.tuples(st.one_of(st.none(), _verdict(NOT_PASSED))).map(
        lambda a: (a, {"outcome": "promoted", "reason": ""})),
    "rollout.release_on_every_replica": st.one_of(
        st.just((("",), {"images": (), "ready": 0, "replicas": 0, "complete": True})),
        st.just((("bot:v2",), {"images": (), "ready": 0, "replicas": 3, "complete": False}))),
    "rollout.smoke_on_green_only": st.tuples(st.just([])).map(
        lambda a: (a, {"url": "", "production_url": "http://x", "outcome": "", "reason": ""})),
    "rollout.recorded_verdict": st.tuples(st.just("quorum"), st.just([])).map(lambda a: (a, {"why": "not run"})),
    "rollout.stable_healthy_after_rollback": st.one_of(
        st.just((([],), {"window_s": 6.0, "watched_s": 6.0})),
        st.lists(_verdict(NOT_PASSED), min_size=1, max_size=3).map(lambda vs: ((vs,), {"window_s": 6.0,
                                                                                      "watched_s": 6.0})),
        st.tuples(NOT_A_READING, st.just(6.0)).map(lambda a: (([Verdict("x", Status.PASS, 0, 0)],),
                                                               {"window_s": a[0], "watched_s": a[1]})),
        st.tuples(st.just(6.0), st.one_of(NOT_A_READING, st.floats(0, 5.9))).map(
            lambda a: (([Verdict("x", Status.PASS, 0, 0)],), {"window_s": a[0], "watched_s": a[1]}))),
}
