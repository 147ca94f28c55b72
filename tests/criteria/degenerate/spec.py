"""Degenerate inputs of the workload-spec criteria (guide §7.2) and of "staging matches production".

A container with nothing read into it, a workload without containers, a Service with an
unknown stickiness, an empty list of rule results, specs that are not workloads at all:
none of them may pass.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from goldgate.criteria.spec_rules import RuleResult
from goldgate.criteria.spec_rules.shape import ContainerSpec, ProbeSpec, ServiceSpec, WorkloadSpec
from goldgate.verdict import Verdict
from goldgate.workload_policy import Policy

POLICIES = st.sampled_from([Policy(), Policy(min_replicas=1, drain_s=0), Policy(forbidden_tags=())])
NAMES = st.sampled_from(["", "trading-bot", "?", "#0"])

EMPTY_PROBE = st.builds(ProbeSpec, field=st.just("p"), handlers=st.sampled_from([(), ("httpGet", "exec")]))
NO_PORT_PROBE = st.builds(ProbeSpec, field=st.just("p"), handlers=st.just(("httpGet",)),
                          port=st.sampled_from([None, 8080, "http", "8080"]))

# a container with nothing in it, or probes without a handler, zero or absent amounts, no image or latest
EMPTY_CONTAINER = st.builds(
    ContainerSpec, name=NAMES, field=st.just("spec.containers[0]"),
    image=st.sampled_from([None, "", "  ", "bot", "bot:latest", "registry:5000/bot", "bot@sha256"]),
    probes=st.fixed_dictionaries({"livenessProbe": st.none() | EMPTY_PROBE,
                                  "readinessProbe": st.none() | EMPTY_PROBE,
                                  "startupProbe": st.none() | NO_PORT_PROBE}),
    requests=st.sampled_from([{}, {"cpu": ("0", Decimal(0)), "memory": ("0", Decimal(0))}]),
    limits=st.sampled_from([{}, {"cpu": ("0m", Decimal(0)), "memory": ("0Mi", Decimal(0))}]),
)
EMPTY_WORKLOAD = st.builds(
    WorkloadSpec, kind=st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "Pod", ""]), name=NAMES,
    pod_field=st.just("spec.template.spec"), containers=st.just(()),
    replicas=st.none() | st.integers(-3, 10), strategy_type=st.none() | st.just("RollingUpdate"),
    max_surge=st.none() | st.just("25%"), max_unavailable=st.none() | st.just(0),
)


def _container_cases():
    return st.tuples(EMPTY_CONTAINER, POLICIES).map(lambda a: (a, {}))


def _workload_cases():
    return st.tuples(EMPTY_WORKLOAD, POLICIES).map(lambda a: (a, {}))


_NOT_RUN = RuleResult("not-applicable", None, "ConfigMap", "c", not_run="no pod template")
_FAILED = RuleResult("replicas", Verdict.failed("replicas", "1", "at least 3", "too few"), "Deployment", "d")
_ERRORED = RuleResult("manifest-shape", Verdict.error("manifest readable", "spec: expected a mapping"), "Pod", "p")

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["kind", "spec", "metadata", "template", "containers", "replicas", "name"]), inner, max_size=4),
    max_leaves=12,
)
NOT_A_WORKLOAD = st.one_of(
    st.just({}), st.just({"kind": "Deployment"}), st.just({"kind": "ConfigMap", "data": {}}),
    st.just({"kind": "Deployment", "spec": {"template": {"spec": {"containers": []}}}}), JSONISH,
)

CASES = {
    **{f"spec_rules.rules.{name}": _container_cases() for name in (
        "liveness_probe", "readiness_probe", "probe_port", "cpu_request", "memory_request", "cpu_limit",
        "memory_limit", "image_pinned")},
    **{f"spec_rules.rules.{name}": _workload_cases() for name in (
        "replicas", "rolling_update", "max_unavailable", "max_surge", "zone_spread", "termination_grace")},
    "spec_rules.rules.session_affinity": st.tuples(
        st.builds(ServiceSpec, name=NAMES, session_affinity=st.sampled_from(["", "ClientIP", "none", "NONE"])),
        POLICIES).map(lambda a: (a, {})),
    "spec_rules.unreadable": st.tuples(st.text(max_size=10), st.text(max_size=10), st.text(max_size=10)).map(
        lambda a: (a, {})),
    "spec_rules.no_workload": st.tuples(st.text(max_size=10), st.lists(st.text(max_size=8), max_size=3)).map(
        lambda a: (a, {})),
    "spec_rules.all_rules_pass": st.tuples(
        st.lists(st.sampled_from([_NOT_RUN, _FAILED, _ERRORED]), max_size=4),
        st.text(max_size=8)).map(lambda a: (a, {})),
    "drift.specs_match": st.tuples(NOT_A_WORKLOAD, NOT_A_WORKLOAD, st.just("staging"), st.just("production")).map(
        lambda a: (a, {})),
}
