"""Guide §7.2 (with §7.1's zones and §7.3's draining and stickiness) as one verdict per rule.

Each rule judges what the guide asks for, not the guide's example values: an exec probe
meets "has a liveness probe" as well as the guide's ``httpGet /health``, and
``maxSurge: 25%`` of 3 replicas is the guide's ``maxSurge: 1``, because the Deployment
controller rounds it up to 1. Percentages, named ports and quantities are resolved exactly
as Kubernetes resolves them before anything is compared. Thresholds come from
:class:`~goldgate.workload_policy.Policy`; every label is built from the value in force.
"""

from __future__ import annotations

from goldgate.criteria.registry import criterion
from goldgate.criteria.spec_rules.quantity import ValueProblemError, canonical, scaled
from goldgate.criteria.spec_rules.shape import (
    DEFAULT_GRACE_S,
    ContainerSpec,
    ProbeSpec,
    ServiceSpec,
    WorkloadSpec,
)
from goldgate.verdict import Evidence, Verdict
from goldgate.workload_policy import Policy

_HANDLERS = "one of httpGet, tcpSocket, grpc or exec"


def _ev(field: str, **details: object) -> Evidence:
    return Evidence("manifest", field, details=details)


# ----------------------------------------------------------------------------- probes
def _probe_present(rule: str, kind: str, c: ContainerSpec) -> Verdict:
    probe = c.probes.get(kind)
    expected = f"a {kind} with {_HANDLERS}"
    ev = _ev(f"{c.field}.{kind}")
    if probe is None:
        return Verdict.failed(rule, "absent", expected, f"container {c.name!r} has no {kind}", evidence=ev)
    if len(probe.handlers) != 1:
        seen = ", ".join(probe.handlers) or "no handler"
        return Verdict.failed(rule, seen, expected, f"{kind} of container {c.name!r} needs exactly one handler",
                              evidence=ev)
    return Verdict.passed(rule, _describe(probe), expected, evidence=ev)


def _describe(probe: ProbeSpec) -> str:
    handler = probe.handlers[0] if probe.handlers else "no handler"
    if handler == "exec":
        return "exec"
    path = (probe.settings.get(handler) or {}).get("path") if isinstance(probe.settings.get(handler), dict) else None
    return f"{handler} {path or ''} port {probe.port}".replace("  ", " ")


@criterion(needs="a container whose livenessProbe was read from the manifest (absent counts as a breach)")
def liveness_probe(container: ContainerSpec, policy: Policy) -> Verdict:
    return _probe_present("liveness-probe", "livenessProbe", container)


@criterion(needs="a container whose readinessProbe was read from the manifest (absent counts as a breach)")
def readiness_probe(container: ContainerSpec, policy: Policy) -> Verdict:
    return _probe_present("readiness-probe", "readinessProbe", container)


@criterion(needs="at least one probe with a port or an exec handler; ports declared on the container")
def probe_port(container: ContainerSpec, policy: Policy) -> Verdict:
    rule = "probe-port"
    c = container
    probes = {k: p for k, p in c.probes.items() if p is not None and p.handlers}
    declared = sorted({*map(str, c.port_numbers), *c.ports}) or ["none declared"]
    expected = f"a port of container {c.name!r}: {', '.join(declared)}"
    ev = _ev(f"{c.field}.ports", ports=dict(c.ports), numbers=sorted(c.port_numbers))
    if not probes:
        return Verdict.inconclusive(rule, f"container {c.name!r} has no probe whose port could be checked",
                                    threshold=expected, evidence=ev)
    seen, broken, unknown = [], [], []
    for kind, probe in probes.items():
        if probe.handlers == ("exec",):
            seen.append(f"{kind} exec")
            continue
        port = probe.port
        if isinstance(port, str) and port in c.ports:
            seen.append(f"{kind} {port}→{c.ports[port]}")
        elif isinstance(port, str):
            broken.append(f"{kind} port {port!r} is not a named port of the container")
        elif port is None:
            broken.append(f"{kind} has no port")
        elif port in c.port_numbers:
            seen.append(f"{kind} {port}")
        elif not c.port_numbers:
            unknown.append(f"{kind} port {port}")
        else:
            broken.append(f"{kind} port {port} is not a containerPort")
    if broken:
        return Verdict.failed(rule, "; ".join(broken), expected, f"container {c.name!r}: {'; '.join(broken)}",
                              evidence=ev)
    if unknown:
        return Verdict.inconclusive(rule, f"container {c.name!r} declares no ports: cannot confirm {', '.join(unknown)}",
                                    observed=", ".join(unknown), threshold=expected, evidence=ev)
    return Verdict.passed(rule, ", ".join(seen), expected, evidence=ev)


# ----------------------------------------------------------------------------- resources
def _resource(rule: str, c: ContainerSpec, part: str, resource: str) -> Verdict:
    field = f"{c.field}.resources.{part}.{resource}"
    expected = f"resources.{part}.{resource} set and above 0"
    ev = _ev(field)
    mine = (c.requests if part == "requests" else c.limits).get(resource)
    limit = c.limits.get(resource)
    if mine is None and part == "requests" and limit is not None:
        if not c.served:
            # As kube-score and Polaris judge it: the manifest does not declare a request; the
            # API server would copy the limit, which reserves the worst case, not the need.
            return Verdict.failed(rule, f"not declared (limit {limit[0]})", expected,
                                  f"container {c.name!r}: requests.{resource} not declared (the API server would "
                                  f"default them to the limits, {limit[0]})", evidence=ev)
        # a live workload: judged on its effective value, the limit the API server copied
        mine = (f"{limit[0]} (effective: the API server defaulted it to the limit)", limit[1])
    if mine is None:
        return Verdict.failed(rule, "absent", expected, f"container {c.name!r} sets no {part}.{resource}", evidence=ev)
    written, amount = mine
    if amount <= 0:
        return Verdict.failed(rule, written, expected, f"container {c.name!r}: {part}.{resource} is 0", evidence=ev)
    if part == "requests" and limit is not None and amount > limit[1]:
        return Verdict.failed(rule, written, f"at most the limit {limit[0]}",
                              f"container {c.name!r}: request {written} is above the limit {limit[0]}", evidence=ev)
    same = canonical(amount, resource)
    shown = written if same == written else f"{written} (= {same})"
    return Verdict.passed(rule, shown, expected, evidence=ev)


@criterion(needs="a container's resources read from the manifest")
def cpu_request(container: ContainerSpec, policy: Policy) -> Verdict:
    return _resource("cpu-request", container, "requests", "cpu")


@criterion(needs="a container's resources read from the manifest")
def memory_request(container: ContainerSpec, policy: Policy) -> Verdict:
    return _resource("memory-request", container, "requests", "memory")


@criterion(needs="a container's resources read from the manifest")
def cpu_limit(container: ContainerSpec, policy: Policy) -> Verdict:
    return _resource("cpu-limit", container, "limits", "cpu")


@criterion(needs="a container's resources read from the manifest")
def memory_limit(container: ContainerSpec, policy: Policy) -> Verdict:
    return _resource("memory-limit", container, "limits", "memory")


# ----------------------------------------------------------------------------- image
@criterion(needs="a container image reference")
def image_pinned(container: ContainerSpec, policy: Policy) -> Verdict:
    rule, c = "image-pinned", container
    tags = ("latest", *(t for t in policy.forbidden_tags if t != "latest"))  # latest never pins a release
    expected = f"an explicit tag (not {', '.join(tags)}) or a digest"
    ev = _ev(f"{c.field}.image")
    image = (c.image or "").strip()
    if not image:
        return Verdict.failed(rule, "no image", expected, f"container {c.name!r} names no image", evidence=ev)
    if "@" in image:
        digest = image.split("@", 1)[1]
        if digest.count(":") == 1 and all(digest.split(":")):
            return Verdict.passed(rule, image, expected, "pinned by digest", evidence=ev)
        return Verdict.failed(rule, image, expected, f"container {c.name!r}: malformed digest {digest!r}", evidence=ev)
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not tag:
        return Verdict.failed(rule, image, expected, f"container {c.name!r}: no tag, which means latest", evidence=ev)
    if tag in tags:
        return Verdict.failed(rule, image, expected, f"container {c.name!r}: tag {tag!r} does not pin a release",
                              evidence=ev)
    return Verdict.passed(rule, image, expected, evidence=ev)


# ----------------------------------------------------------------------------- workload
def _no_pods(rule: str, w: WorkloadSpec, threshold: object) -> Verdict | None:
    if not w.containers:
        return Verdict.inconclusive(rule, f"{w.kind}/{w.name} has no containers to judge", threshold=threshold,
                                    evidence=_ev(w.pod_field))
    return None


@criterion(needs="a workload with containers and a replica count (written or defaulted)")
def replicas(workload: WorkloadSpec, policy: Policy) -> Verdict:
    rule, w = "replicas", workload
    expected = f"at least {policy.min_replicas}"
    if (empty := _no_pods(rule, w, expected)) is not None:
        return empty
    if w.replicas is None:
        return Verdict.inconclusive(rule, f"{w.kind} has no replica count", threshold=expected, evidence=_ev("spec"))
    default = "" if w.replicas_written else f"replicas not set: Kubernetes runs {w.replicas}; "
    shown = f"{w.replicas}" + ("" if w.replicas_written else " (not set: Kubernetes' default)")
    ev = _ev("spec.replicas")
    if w.replicas < policy.min_replicas:
        return Verdict.failed(rule, shown, expected, f"{default}{w.replicas} replicas cannot keep a quorum of "
                              f"{policy.min_replicas}", evidence=ev)
    return Verdict.passed(rule, shown, expected, default.removesuffix("; "), evidence=ev)


@criterion(needs="a workload kind with an update strategy")
def rolling_update(workload: WorkloadSpec, policy: Policy) -> Verdict:
    rule, w, expected = "rolling-update", workload, "RollingUpdate"
    if (empty := _no_pods(rule, w, expected)) is not None:
        return empty
    ev = _ev(f"{w.strategy_field}.type")
    if w.strategy_type is None:
        return Verdict.inconclusive(rule, f"{w.kind} has no update strategy", threshold=expected, evidence=ev)
    if w.strategy_type != "RollingUpdate":
        return Verdict.failed(rule, w.strategy_type, expected,
                              f"{w.strategy_type} does not keep pods serving during an update", evidence=ev)
    if not w.strategy_written:
        return Verdict.passed(rule, "RollingUpdate (not set: Kubernetes' default)", expected,
                              f"{w.strategy_field.rsplit('.', 1)[-1]} not set: Kubernetes uses RollingUpdate",
                              evidence=ev)
    return Verdict.passed(rule, w.strategy_type, expected, evidence=ev)


def _fenceposts(w: WorkloadSpec) -> tuple[int | None, int | None]:
    """maxSurge rounded up, maxUnavailable rounded down, against the replica count."""
    total = w.replicas if w.kind != "DaemonSet" else None
    return (scaled(w.max_surge, total, round_up=True), scaled(w.max_unavailable, total, round_up=False))


def _rolling_value(rule: str, w: WorkloadSpec, which: str, expected: str) -> tuple[Verdict | None, int | None, int | None]:
    if (empty := _no_pods(rule, w, expected)) is not None:
        return empty, 0, 0
    ev = _ev(f"{w.strategy_field}.rollingUpdate.{which}")
    try:
        surge, unavailable = _fenceposts(w)
    except ValueProblemError as exc:
        return Verdict.error(rule, f"{w.strategy_field}.rollingUpdate: {exc}", threshold=expected, evidence=ev), 0, 0
    value, written = (surge, w.max_surge) if which == "maxSurge" else (unavailable, w.max_unavailable)
    if value is None:
        return Verdict.inconclusive(rule, f"{which} {written!r} depends on the node count, which a manifest does "
                                    "not state", observed=str(written), threshold=expected, evidence=ev), 0, 0
    return None, surge, unavailable


def _shown(written: object, value: int, w: WorkloadSpec) -> str:
    if isinstance(written, str) and w.replicas is not None:
        return f"{written} of {w.replicas} = {value}"
    return str(value)


def _defaulted(w: WorkloadSpec, which: str) -> str:
    """``maxSurge not set: Kubernetes uses 25%; `` when the value judged is Kubernetes' default."""
    written = w.surge_written if which == "maxSurge" else w.unavailable_written
    if written:
        return ""
    value = w.max_surge if which == "maxSurge" else w.max_unavailable
    return f"{which} not set: Kubernetes uses {value}; "


@criterion(needs="a rolling-update workload with containers; maxUnavailable resolvable against its replicas")
def max_unavailable(workload: WorkloadSpec, policy: Policy) -> Verdict:
    rule, w = "max-unavailable", workload
    expected = f"at most {policy.max_unavailable}"
    early, surge, resolved = _rolling_value(rule, w, "maxUnavailable", expected)
    if early is not None:
        return early
    unavailable = resolved or 0
    ev = _ev(f"{w.strategy_field}.rollingUpdate.maxUnavailable")
    shown = _shown(w.max_unavailable, unavailable, w)
    default = _defaulted(w, "maxUnavailable")
    if surge == 0 and unavailable == 0:
        return Verdict.failed(rule, f"{shown} with maxSurge 0", expected,
                              f"{default}maxSurge and maxUnavailable are both 0: the controller forces "
                              "maxUnavailable to 1", evidence=ev)
    if unavailable > policy.max_unavailable:
        return Verdict.failed(rule, shown, expected, f"{default}up to {unavailable} pods may be unavailable during "
                              "an update", evidence=ev)
    return Verdict.passed(rule, shown, expected, default.removesuffix("; "), evidence=ev)


@criterion(needs="a rolling-update workload with containers; maxSurge resolvable against its replicas")
def max_surge(workload: WorkloadSpec, policy: Policy) -> Verdict:
    rule, w = "max-surge", workload
    expected = f"at least {policy.min_surge}"
    early, resolved, _ = _rolling_value(rule, w, "maxSurge", expected)
    if early is not None:
        return early
    surge = resolved or 0
    ev = _ev(f"{w.strategy_field}.rollingUpdate.maxSurge")
    shown = _shown(w.max_surge, surge, w)
    default = _defaulted(w, "maxSurge")
    if surge < policy.min_surge:
        return Verdict.failed(rule, shown, expected, f"{default}only {surge} extra pods may start during an update",
                              evidence=ev)
    return Verdict.passed(rule, shown, expected, default.removesuffix("; "), evidence=ev)


@criterion(needs="a workload with containers; its topology spread constraints and pod anti-affinity")
def zone_spread(workload: WorkloadSpec, policy: Policy) -> Verdict:
    rule, w = "zone-spread", workload
    expected = f"a topologySpreadConstraint or pod anti-affinity over {policy.zone_key}"
    if (empty := _no_pods(rule, w, expected)) is not None:
        return empty
    ev = _ev(f"{w.pod_field}.topologySpreadConstraints", topology_keys=sorted(w.spread_keys))
    if policy.zone_key not in w.spread_keys:
        seen = ", ".join(sorted(w.spread_keys)) or "none"
        return Verdict.failed(rule, seen, expected, f"pods of {w.kind}/{w.name} may all land in one zone",
                              evidence=ev)
    return Verdict.passed(rule, policy.zone_key, expected, evidence=ev)


@criterion(needs="a workload with containers; terminationGracePeriodSeconds (written or Kubernetes' default)")
def termination_grace(workload: WorkloadSpec, policy: Policy) -> Verdict:
    rule, w = "termination-grace", workload
    sleep = max((c.pre_stop_sleep_s for c in w.containers), default=0.0)
    need = float(policy.drain_s) + sleep
    expected = f"at least {need:g}s ({policy.drain_s:g}s drain" + (f" + {sleep:g}s preStop sleep)" if sleep else ")")
    if (empty := _no_pods(rule, w, expected)) is not None:
        return empty
    grace = w.grace_s if w.grace_s is not None else DEFAULT_GRACE_S
    shown = f"{grace}s" + ("" if w.grace_s is not None else " (default)")
    ev = _ev(f"{w.pod_field}.terminationGracePeriodSeconds", pre_stop_sleep_s=sleep)
    if grace < need:
        return Verdict.failed(rule, shown, expected, f"pods are killed {need - grace:g}s before the drain ends",
                              evidence=ev)
    return Verdict.passed(rule, shown, expected, evidence=ev)


# ----------------------------------------------------------------------------- services
@criterion(needs="a Service's sessionAffinity (absent means Kubernetes' default None)")
def session_affinity(service: ServiceSpec, policy: Policy) -> Verdict:
    rule = "session-affinity"
    expected = policy.session_affinity
    ev = _ev("spec.sessionAffinity")
    seen = service.session_affinity
    if seen is None:
        if expected == "None":
            return Verdict.passed(rule, "None (default)", expected, evidence=ev)
        return Verdict.failed(rule, "None (default)", expected, f"Service {service.name} keeps the default",
                              evidence=ev)
    if seen != expected:
        return Verdict.failed(rule, seen, expected, f"Service {service.name} pins clients to pods", evidence=ev)
    return Verdict.passed(rule, seen, expected, evidence=ev)
