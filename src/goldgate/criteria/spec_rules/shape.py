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

from goldgate.criteria.spec_rules import validation
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
    served: bool = False  # read from the API server (defaults applied), not from a manifest


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
    #: the fields written in the manifest; the others hold Kubernetes' defaults
    strategy_written: bool = True
    surge_written: bool = True
    unavailable_written: bool = True
    grace_s: int | None = None  # None: absent (Kubernetes uses DEFAULT_GRACE_S)
    spread_keys: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    session_affinity: str | None


class _Reader:
    """Typed access to a tree; every mismatch is recorded with its path, never raised.

    ``served``: the tree was read back from the API server, which validated it on the way
    in, so what it refuses (:mod:`~goldgate.criteria.spec_rules.validation`) is not asked
    again."""

    def __init__(self, *, served: bool = False) -> None:
        self.problems: list[ShapeProblem] = []
        self.served = served

    def refused(self, problems: list[validation.Problem]) -> None:
        """Record what the API server would refuse in a manifest (see :mod:`validation`)."""
        if not self.served:
            self.problems += [ShapeProblem(path, cause) for path, cause in problems]

    def refused_if(self, path: str, cause: str | None) -> None:
        if cause:
            self.refused([(path, f"{cause}: {validation.REFUSED}")])

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
        return self.rendered(value, path)

    def rendered(self, value: str, path: str) -> str | None:
        """``value`` unless it still holds a template expression (``{{ .Values.x }}``)."""
        if _TEMPLATE.search(value):
            self.bad(path, f"unrendered template expression {value[:80]!r}: render the chart first "
                           "(helm template, kustomize build)")
            return None
        return value

    def string_map(self, value: Any, path: str) -> dict[str, str]:
        """Labels and annotations: the API server accepts only string keys and string values."""
        out: dict[str, str] = {}
        for key, item in self.mapping(value, path).items():
            if not isinstance(key, str) or not isinstance(item, str):
                bad = key if not isinstance(key, str) else item
                self.bad(f"{path}.{key}", f"expected a string, got {_type(bad)} {bad!r}"[:200]
                         + (" (quote it)" if isinstance(bad, int | float | bool) else ""))
                continue
            out[key] = item
        return out

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
        if isinstance(value, str):
            return self.rendered(value, path)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.bad(path, f"expected an integer or a string, got {_type(value)}")
        return None


_TEMPLATE = re.compile(r"\{\{.*\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*\}")

#: apiVersion the API server serves each judged kind under (older groups were removed).
API_VERSIONS = {
    "Deployment": ("apps/v1",), "StatefulSet": ("apps/v1",), "DaemonSet": ("apps/v1",), "ReplicaSet": ("apps/v1",),
    "ReplicationController": ("v1",), "Pod": ("v1",), "Service": ("v1",),
    "Job": ("batch/v1",), "CronJob": ("batch/v1",),
}
_API_VERSION = re.compile(r"^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$")
#: update strategy types the API server accepts, per kind
STRATEGY_TYPES = {"Deployment": ("RollingUpdate", "Recreate"), "StatefulSet": ("RollingUpdate", "OnDelete"),
                  "DaemonSet": ("RollingUpdate", "OnDelete")}


def _type(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _get(r: _Reader, root: dict[str, Any], dotted: str) -> dict[str, Any]:
    node, path = root, ""
    for part in dotted.split("."):
        path = f"{path}.{part}" if path else part
        node = r.mapping(node.get(part), path)
    return node


def metadata(doc: dict[str, Any], *, served: bool = False) -> tuple[str, list[ShapeProblem]]:
    """The document's name (``?`` when unusable) and the problems of its metadata and apiVersion.

    A manifest is read as the API server reads it: ``apiVersion`` must be a string naming the
    version the kind is served under (``[apps, v1]`` or ``extensions/v1beta1`` is refused by
    ``kubectl apply``), labels and annotations must be strings. An object read back from the
    API server (``served``) carries what the server made of it, so its apiVersion is not asked.
    """
    r = _Reader(served=served)
    if not served:
        api_version(r, doc)
    meta = r.mapping(doc.get("metadata"), "metadata")
    written = r.text(meta.get("name"), "metadata.name")
    if written is not None and isinstance(doc.get("kind"), str):
        r.refused_if("metadata.name", validation.object_name(doc["kind"], written))
    namespace = r.text(meta.get("namespace"), "metadata.namespace")
    if namespace:
        r.refused_if("metadata.namespace", validation.dns_label(namespace))
    name = written or r.text(meta.get("generateName"), "metadata.generateName")
    r.refused(validation.labels(r.string_map(meta.get("labels"), "metadata.labels"), "metadata.labels"))
    r.refused(validation.labels(r.string_map(meta.get("annotations"), "metadata.annotations"),
                                "metadata.annotations", keys_only=True))
    return name or "?", r.problems


def api_version(r: _Reader, doc: dict[str, Any]) -> None:
    value = doc.get("apiVersion")
    kind = doc.get("kind")
    if value is None:
        r.bad("apiVersion", "is missing: the API server refuses an object without one")
        return
    text = r.text(value, "apiVersion")
    if text is None:
        return
    if not _API_VERSION.match(text):
        r.bad("apiVersion", f"{text[:80]!r} is not a group/version such as apps/v1")
    elif kind in API_VERSIONS and text not in API_VERSIONS[kind]:
        r.bad("apiVersion", f"{kind} is not served under {text!r} (expected {' or '.join(API_VERSIONS[kind])})")


def read_service(doc: dict[str, Any], *, served: bool = False) -> tuple[ServiceSpec, list[ShapeProblem]]:
    name, problems = metadata(doc, served=served)
    r = _Reader(served=served)
    spec = r.mapping(doc.get("spec"), "spec")
    affinity = r.text(spec.get("sessionAffinity"), "spec.sessionAffinity")
    r.refused(validation.service(spec))
    return ServiceSpec(name, affinity), problems + r.problems


def read_workload(doc: dict[str, Any], kind: str, *, served: bool = False) -> tuple[WorkloadSpec, list[ShapeProblem]]:
    """The pod template of a workload kind (one of :data:`POD_SPEC_PATH`) and what is wrong in it.

    Fields Kubernetes defaults (replicas 1, strategy RollingUpdate with maxSurge and
    maxUnavailable 25 %) take their defaults, and the spec records that they were not
    written, so a verdict can say which value it judged and why.
    """
    name, problems = metadata(doc, served=served)
    r = _Reader(served=served)
    pod_path = POD_SPEC_PATH[kind]
    pod = _get(r, doc, pod_path)
    containers = _containers(r, pod, f"{pod_path}.containers", served)
    spec = r.mapping(doc.get("spec"), "spec")
    replicas, written = None, False
    if kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"):
        written = spec.get("replicas") is not None
        replicas = r.integer(spec.get("replicas"), "spec.replicas") if written else 1
    strategy_field, strategy_type, surge, unavailable = "", None, None, None
    strategy_written = surge_written = unavailable_written = True
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        strategy_field = "spec.strategy" if kind == "Deployment" else "spec.updateStrategy"
        strategy = r.mapping(spec.get(strategy_field.split(".")[1]), strategy_field)
        strategy_written = strategy.get("type") is not None
        strategy_type = r.text(strategy.get("type"), f"{strategy_field}.type") or "RollingUpdate"
        if strategy_written and strategy_type not in STRATEGY_TYPES[kind] and strategy.get("type") == strategy_type:
            r.bad(f"{strategy_field}.type", f"unsupported value {strategy_type[:40]!r}: the API server accepts "
                                              f"{' or '.join(STRATEGY_TYPES[kind])}")
        rolling = r.mapping(strategy.get("rollingUpdate"), f"{strategy_field}.rollingUpdate")
        if rolling and strategy_type != "RollingUpdate" and strategy_type in STRATEGY_TYPES[kind]:
            r.bad(f"{strategy_field}.rollingUpdate", f"may not be set when the type is {strategy_type!r} "
                                                      "(the API server refuses it)")
        default_surge, default_unavailable = ("25%", "25%") if kind == "Deployment" else (0, 1)
        surge_written = rolling.get("maxSurge") is not None
        unavailable_written = rolling.get("maxUnavailable") is not None
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
    r.refused_if(f"{pod_path}.restartPolicy", validation.restart_policy(kind, pod.get("restartPolicy")))
    if kind == "Deployment":
        r.refused(validation.deadlines(spec))
    meta_path = "metadata" if pod_path == "spec" else pod_path.removesuffix(".spec") + ".metadata"
    template_meta = _get(r, doc, meta_path)
    labels = r.string_map(template_meta.get("labels"), f"{meta_path}.labels")
    if pod_path != "spec":
        r.refused(validation.labels(labels, f"{meta_path}.labels"))
        r.refused(validation.selector(kind, spec.get("selector"), labels, "spec.selector"))
    workload = WorkloadSpec(
        kind, name, pod_path, tuple(containers), replicas, written, strategy_field, strategy_type, surge, unavailable,
        strategy_written, surge_written, unavailable_written, grace, frozenset(_spread_keys(r, pod, pod_path)), labels,
    )
    return workload, list(dict.fromkeys(problems + r.problems))  # one line per field, in order


def _spread_keys(r: _Reader, pod: dict[str, Any], pod_path: str) -> set[str]:
    keys: set[str] = set()
    for i, c in enumerate(r.seq(pod.get("topologySpreadConstraints"), f"{pod_path}.topologySpreadConstraints")):
        at = f"{pod_path}.topologySpreadConstraints[{i}]"
        constraint = r.mapping(c, at)
        if constraint:
            r.refused(validation.spread_constraint(constraint, at))
        key = r.text(constraint.get("topologyKey"), f"{at}.topologyKey")
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


def _containers(r: _Reader, pod: dict[str, Any], path: str, served: bool = False) -> list[ContainerSpec]:
    out: list[ContainerSpec] = []
    seen: dict[str, int] = {}
    volumes = _volumes(r, pod, path.removesuffix(".containers"))
    for i, raw in enumerate(r.seq(pod.get("containers"), path)):
        at = f"{path}[{i}]"
        if not isinstance(raw, dict):
            r.bad(at, f"expected a container (a mapping), got {_type(raw)}")
            continue
        written = r.text(raw.get("name"), f"{at}.name", required=True)
        if written is not None:
            r.refused_if(f"{at}.name", validation.dns_label(written))
        name = written or f"#{i}"
        if name in seen:
            r.bad(f"{at}.name", f"duplicate container name {name!r} (also {path}[{seen[name]}])")
        seen.setdefault(name, i)
        out.append(_container(r, raw, name, at, served))
        r.refused(validation.volume_mounts(r.seq(raw.get("volumeMounts"), f"{at}.volumeMounts"), volumes,
                                           f"{at}.volumeMounts"))
    return out


def _volumes(r: _Reader, pod: dict[str, Any], pod_path: str) -> set[str]:
    """The names of the pod's volumes, each a DNS-1123 label and given once (as the server asks)."""
    names: set[str] = set()
    for i, v in enumerate(r.seq(pod.get("volumes"), f"{pod_path}.volumes")):
        at = f"{pod_path}.volumes[{i}]"
        name = r.text(r.mapping(v, at).get("name"), f"{at}.name", required=True)
        if name is None:
            continue
        r.refused_if(f"{at}.name", validation.dns_label(name) or (f"{name!r} is declared twice" if name in names
                                                                   else None))
        names.add(name)
    return names


def _container(r: _Reader, c: dict[str, Any], name: str, at: str, served: bool = False) -> ContainerSpec:
    ports: dict[str, int] = {}
    numbers: set[int] = set()
    names: dict[str, int] = {}
    for i, p in enumerate(r.seq(c.get("ports"), f"{at}.ports")):
        here = f"{at}.ports[{i}]"
        p = r.mapping(p, here)
        number = r.integer(p.get("containerPort"), f"{here}.containerPort")
        r.refused_if(f"{here}.protocol", validation.port_protocol(p.get("protocol")))
        if number is not None and (cause := validation.port_number(number)):
            r.bad(f"{here}.containerPort", cause)
            number = None
        port_name = r.text(p.get("name"), f"{here}.name")
        if port_name:
            r.refused_if(f"{here}.name", validation.port_name(port_name))
            if port_name in names:
                r.refused_if(f"{here}.name", f"duplicate port name {port_name!r} (also {at}.ports[{names[port_name]}])")
            names.setdefault(port_name, i)
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
            r.refused_if(f"{at}.resources.{part}.{res}", validation.resource_name(str(res)))
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
        tuple(sorted(config_keys)), served,
    )


def _probe(r: _Reader, value: Any, at: str) -> ProbeSpec | None:
    if value is None:
        return None
    probe = r.mapping(value, at)
    if not probe:
        return ProbeSpec(at, ()) if isinstance(value, dict) else None
    handlers = tuple(h for h in _HANDLERS if probe.get(h) is not None)
    r.refused(validation.probe(at.rsplit(".", 1)[-1], probe, at))
    port = None
    for h in handlers:
        body = r.mapping(probe.get(h), f"{at}.{h}")
        if h != "exec":
            port = r.int_or_string(body.get("port"), f"{at}.{h}.port")
            if isinstance(port, str):
                r.refused_if(f"{at}.{h}.port", validation.port_name(port))
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
