"""A manifest document read into the parts the workload rules judge, or the field that is wrong.

Manifests come from anywhere (Helm output, policy tools' fixtures, ``kubectl get -o
yaml``), so nothing here trusts a type: every field the rules use is checked on the way
in, and a wrong one becomes a :class:`ShapeProblem` naming its field path
(``spec.template.spec.containers[1].livenessProbe``) instead of a traceback later. No
decisions are made here; :mod:`goldgate.criteria.spec_rules.rules` makes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from goldgate.criteria.spec_rules.quantity import ValueProblemError, parse_quantity, scaled

#: Where each kind keeps its pod template (dotted path to the pod spec).
POD_SPEC_PATH = {
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "ReplicationController": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "Pod": "spec",
}
#: Kubernetes' own default when terminationGracePeriodSeconds is absent (a fact, not a threshold).
DEFAULT_GRACE_S = 30
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HANDLERS = ("httpGet", "tcpSocket", "grpc", "exec")


@dataclass(frozen=True)
class ShapeProblem:
    field: str
    cause: str


@dataclass(frozen=True)
class ProbeSpec:
    """One probe: its handler (httpGet, tcpSocket, grpc, exec) and the port it targets."""

    field: str
    handlers: tuple[str, ...]
    port: int | str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)  # every key, for drift


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    field: str
    image: str | None = None
    ports: Mapping[str, int] = field(default_factory=dict)  # named ports → number
    port_numbers: frozenset[int] = frozenset()
    probes: Mapping[str, ProbeSpec | None] = field(default_factory=dict)
    requests: Mapping[str, tuple[str, Decimal]] = field(default_factory=dict)  # resource → (as written, amount)
    limits: Mapping[str, tuple[str, Decimal]] = field(default_factory=dict)
    pre_stop_sleep_s: float = 0
    env_names: tuple[str, ...] = ()
    config_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkloadSpec:
    kind: str
    name: str
    pod_field: str
    containers: tuple[ContainerSpec, ...] = ()
    replicas: int | None = None  # None: the kind has no replica count
    replicas_written: bool = False
    strategy_field: str = ""
    strategy_type: str | None = None  # None: the kind has no update strategy
    max_surge: Any = None
    max_unavailable: Any = None
    grace_s: int | None = None  # None: absent (Kubernetes uses DEFAULT_GRACE_S)
    spread_keys: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    session_affinity: str | None


class _Reader:
    """Typed access to a tree; every mismatch is recorded with its path, never raised."""

    def __init__(self) -> None:
        self.problems: list[ShapeProblem] = []

    def bad(self, path: str, cause: str) -> None:
        self.problems.append(ShapeProblem(path, cause))

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(path, f"expected a mapping, got {_type(value)}")
            return {}
        return value

    def seq(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(path, f"expected a list, got {_type(value)}")
            return []
        return value

    def text(self, value: Any, path: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.bad(path, "is missing")
            return None
        if not isinstance(value, str):
            self.bad(path, f"expected a string, got {_type(value)}")
            return None
        return value

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(path, f"expected an integer, got {_type(value)} {value!r}"[:200])
            return None
        if value < 0:
            self.bad(path, f"is negative ({value})")
            return None
        return value

    def int_or_string(self, value: Any, path: str) -> Any:
        if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.bad(path, f"expected an integer or a string, got {_type(value)}")
        return None


def _type(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _get(r: _Reader, root: dict[str, Any], dotted: str) -> dict[str, Any]:
    node, path = root, ""
    for part in dotted.split("."):
        path = f"{path}.{part}" if path else part
        node = r.mapping(node.get(part), path)
    return node


def metadata(doc: dict[str, Any]) -> tuple[str, list[ShapeProblem]]:
    """The document's name (``?`` when unusable) and the problems of its metadata."""
    r = _Reader()
    meta = r.mapping(doc.get("metadata"), "metadata")
    name = r.text(meta.get("name"), "metadata.name") or r.text(meta.get("generateName"), "metadata.generateName")
    return name or "?", r.problems


def read_service(doc: dict[str, Any]) -> tuple[ServiceSpec, list[ShapeProblem]]:
    name, problems = metadata(doc)
    r = _Reader()
    spec = r.mapping(doc.get("spec"), "spec")
    affinity = r.text(spec.get("sessionAffinity"), "spec.sessionAffinity")
    return ServiceSpec(name, affinity), problems + r.problems


def read_workload(doc: dict[str, Any], kind: str) -> tuple[WorkloadSpec, list[ShapeProblem]]:
    """The pod template of a workload kind (one of :data:`POD_SPEC_PATH`) and what is wrong in it."""
    name, problems = metadata(doc)
    r = _Reader()
    pod_path = POD_SPEC_PATH[kind]
    pod = _get(r, doc, pod_path)
    containers = _containers(r, pod, f"{pod_path}.containers")
    spec = r.mapping(doc.get("spec"), "spec")
    replicas, written = None, False
    if kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"):
        written = spec.get("replicas") is not None
        replicas = r.integer(spec.get("replicas"), "spec.replicas") if written else 1
    strategy_field, strategy_type, surge, unavailable = "", None, None, None
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        strategy_field = "spec.strategy" if kind == "Deployment" else "spec.updateStrategy"
        strategy = r.mapping(spec.get(strategy_field.split(".")[1]), strategy_field)
        strategy_type = r.text(strategy.get("type"), f"{strategy_field}.type") or "RollingUpdate"
        rolling = r.mapping(strategy.get("rollingUpdate"), f"{strategy_field}.rollingUpdate")
        default_surge, default_unavailable = ("25%", "25%") if kind == "Deployment" else (0, 1)
        surge = r.int_or_string(rolling.get("maxSurge", default_surge), f"{strategy_field}.rollingUpdate.maxSurge")
        unavailable = r.int_or_string(rolling.get("maxUnavailable", default_unavailable),
                                      f"{strategy_field}.rollingUpdate.maxUnavailable")
        for key, value in (("maxSurge", surge), ("maxUnavailable", unavailable)):
            try:
                if value is not None:
                    scaled(value, 1, round_up=True)  # syntax only: the rules resolve it against replicas
            except ValueProblemError as exc:
                r.bad(f"{strategy_field}.rollingUpdate.{key}", str(exc))
    grace = r.integer(pod.get("terminationGracePeriodSeconds"), f"{pod_path}.terminationGracePeriodSeconds")
    meta_path = "metadata" if pod_path == "spec" else pod_path.removesuffix(".spec") + ".metadata"
    template_meta = _get(r, doc, meta_path)
    labels = {str(k): str(v) for k, v in r.mapping(template_meta.get("labels"), f"{meta_path}.labels").items()}
    workload = WorkloadSpec(
        kind, name, pod_path, tuple(containers), replicas, written, strategy_field, strategy_type, surge, unavailable,
        grace, frozenset(_spread_keys(r, pod, pod_path)), labels,
    )
    return workload, list(dict.fromkeys(problems + r.problems))  # one line per field, in order


def _spread_keys(r: _Reader, pod: dict[str, Any], pod_path: str) -> set[str]:
    keys: set[str] = set()
    for i, c in enumerate(r.seq(pod.get("topologySpreadConstraints"), f"{pod_path}.topologySpreadConstraints")):
        at = f"{pod_path}.topologySpreadConstraints[{i}]"
        key = r.text(r.mapping(c, at).get("topologyKey"), f"{at}.topologyKey")
        if key:
            keys.add(key)
    anti = r.mapping(r.mapping(pod.get("affinity"), f"{pod_path}.affinity").get("podAntiAffinity"),
                     f"{pod_path}.affinity.podAntiAffinity")
    at = f"{pod_path}.affinity.podAntiAffinity"
    for i, term in enumerate(r.seq(anti.get("requiredDuringSchedulingIgnoredDuringExecution"),
                                   f"{at}.requiredDuringSchedulingIgnoredDuringExecution")):
        here = f"{at}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"
        key = r.text(r.mapping(term, here).get("topologyKey"), f"{here}.topologyKey")
        if key:
            keys.add(key)
    for i, weighted in enumerate(r.seq(anti.get("preferredDuringSchedulingIgnoredDuringExecution"),
                                       f"{at}.preferredDuringSchedulingIgnoredDuringExecution")):
        here = f"{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        term = r.mapping(r.mapping(weighted, here).get("podAffinityTerm"), f"{here}.podAffinityTerm")
        key = r.text(term.get("topologyKey"), f"{here}.podAffinityTerm.topologyKey")
        if key:
            keys.add(key)
    return keys


def _containers(r: _Reader, pod: dict[str, Any], path: str) -> list[ContainerSpec]:
    out: list[ContainerSpec] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(r.seq(pod.get("containers"), path)):
        at = f"{path}[{i}]"
        if not isinstance(raw, dict):
            r.bad(at, f"expected a container (a mapping), got {_type(raw)}")
            continue
        name = r.text(raw.get("name"), f"{at}.name", required=True) or f"#{i}"
        if name in seen:
            r.bad(f"{at}.name", f"duplicate container name {name!r} (also {path}[{seen[name]}])")
        seen.setdefault(name, i)
        out.append(_container(r, raw, name, at))
    return out


def _container(r: _Reader, c: dict[str, Any], name: str, at: str) -> ContainerSpec:
    ports: dict[str, int] = {}
    numbers: set[int] = set()
    for i, p in enumerate(r.seq(c.get("ports"), f"{at}.ports")):
        here = f"{at}.ports[{i}]"
        p = r.mapping(p, here)
        number = r.integer(p.get("containerPort"), f"{here}.containerPort")
        port_name = r.text(p.get("name"), f"{here}.name")
        if number is not None:
            numbers.add(number)
            if port_name:
                ports[port_name] = number
    probes = {kind: _probe(r, c.get(kind), f"{at}.{kind}") for kind in PROBES}
    resources = r.mapping(c.get("resources"), f"{at}.resources")
    amounts = {}
    for part in ("requests", "limits"):
        amounts[part] = {}
        for res, value in r.mapping(resources.get(part), f"{at}.resources.{part}").items():
            try:
                amounts[part][str(res)] = (str(value), parse_quantity(value))
            except ValueProblemError as exc:
                r.bad(f"{at}.resources.{part}.{res}", str(exc))
    env_names, config_keys = [], []
    for i, e in enumerate(r.seq(c.get("env"), f"{at}.env")):
        e = r.mapping(e, f"{at}.env[{i}]")
        env_names.append(r.text(e.get("name"), f"{at}.env[{i}].name", required=True) or "")
        ref = r.mapping(r.mapping(e.get("valueFrom"), f"{at}.env[{i}].valueFrom").get("configMapKeyRef"),
                        f"{at}.env[{i}].valueFrom.configMapKeyRef")
        if ref:
            config_keys.append(f"{ref.get('name')}/{ref.get('key')}")
    for i, src in enumerate(r.seq(c.get("envFrom"), f"{at}.envFrom")):
        ref = r.mapping(r.mapping(src, f"{at}.envFrom[{i}]").get("configMapRef"), f"{at}.envFrom[{i}].configMapRef")
        if ref:
            config_keys.append(f"{ref.get('name')}/*")
    return ContainerSpec(
        name, at, r.text(c.get("image"), f"{at}.image"), ports, frozenset(numbers), probes,
        amounts["requests"], amounts["limits"], _pre_stop_sleep(r, c, at), tuple(sorted(env_names)),
        tuple(sorted(config_keys)),
    )


def _probe(r: _Reader, value: Any, at: str) -> ProbeSpec | None:
    if value is None:
        return None
    probe = r.mapping(value, at)
    if not probe:
        return ProbeSpec(at, ()) if isinstance(value, dict) else None
    handlers = tuple(h for h in _HANDLERS if probe.get(h) is not None)
    port = None
    for h in handlers:
        body = r.mapping(probe.get(h), f"{at}.{h}")
        if h != "exec":
            port = r.int_or_string(body.get("port"), f"{at}.{h}.port")
    for key in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"):
        r.integer(probe.get(key), f"{at}.{key}")
    return ProbeSpec(at, handlers, port, probe)


_SLEEP = re.compile(r"(?:^|[;&|\s])sleep\s+([0-9]+(?:\.[0-9]+)?)")


def _pre_stop_sleep(r: _Reader, c: dict[str, Any], at: str) -> float:
    """Seconds a preStop hook sleeps (``sleep:`` handler or a ``sleep N`` command), else 0."""
    at = f"{at}.lifecycle.preStop"
    hook = r.mapping(r.mapping(c.get("lifecycle"), at.removesuffix(".preStop")).get("preStop"), at)
    if hook.get("sleep") is not None:
        seconds = r.integer(r.mapping(hook.get("sleep"), f"{at}.sleep").get("seconds"), f"{at}.sleep.seconds")
        return float(seconds or 0)
    command = r.seq(r.mapping(hook.get("exec"), f"{at}.exec").get("command"), f"{at}.exec.command")
    words = " ".join(str(w) for w in command if isinstance(w, str | int | float))
    m = _SLEEP.search(words)
    return float(m[1]) if m else 0.0
