"""What the API server refuses in names, labels and selectors, so a refused manifest never PASSes.

``kubectl apply`` sends a manifest to the API server, which validates it before anything
runs. A workload that passes goldgate's §7.2 rules but that the server refuses never
deploys, and a gate that said PASS on it has judged a release that cannot exist: the
container named ``Bot_X``, the Deployment whose selector does not match its pod template's
labels, the port named ``HTTP_PORT``. These checks follow the API server's own rules (the
DNS-1123 / DNS-1035 names, qualified label keys, IANA service names for ports, label
selectors) for the fields the rules read; each problem is a ``(field, cause)`` pair the
shape reader turns into an ERROR finding. Nothing here decides a rule.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

Problem = tuple[str, str]

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # DNS-1123 label
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PORT_NAME = re.compile(r"^[-a-z0-9]+$")
REFUSED = "the API server refuses it"
#: longest object name per kind where it is shorter than a DNS-1123 subdomain's 253: a Job's
#: name becomes its pods' job-name label value (63); a CronJob appends 11 characters to it
MAX_NAME = {"Job": 63, "CronJob": 52, "Service": 63}
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def dns_label(value: str) -> str | None:
    """Why ``value`` is not a DNS-1123 label (container names, namespaces), or None."""
    if len(value) > 63:
        return f"{_cut(value)} is longer than 63 characters (a DNS-1123 label)"
    if not _LABEL.match(value):
        return f"{_cut(value)} is not a DNS-1123 label (lower-case letters, digits and '-', " \
               "starting and ending with a letter or digit)"
    return None


def object_name(kind: str, name: str) -> str | None:
    """Why ``name`` cannot name an object of ``kind``, or None (a Service's is a DNS-1035 label)."""
    limit = MAX_NAME.get(kind, 253)
    if len(name) > limit:
        return f"{_cut(name)} is longer than {limit} characters, the most a {kind} name may have"
    if kind == "Service":
        if not _DNS1035.match(name):
            return f"{_cut(name)} is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)"
        return None
    if not _SUBDOMAIN.match(name):
        return f"{_cut(name)} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')"
    return None


def port_number(value: Any) -> str | None:
    """Why ``value`` is not a port number (an integer 1-65535), or None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return None
    return f"{value!r} is not a port number (1-65535)"


def port_name(value: str) -> str | None:
    """Why ``value`` is not an IANA service name (container port names, named probe ports), or None."""
    if len(value) > 15:
        return f"{_cut(value)} is longer than 15 characters (an IANA service name)"
    if not _PORT_NAME.match(value):
        return f"{_cut(value)} may hold only lower-case letters, digits and '-' (an IANA service name)"
    if not re.search(r"[a-z]", value):
        return f"{_cut(value)} holds no letter (an IANA service name needs one)"
    if value.startswith("-") or value.endswith("-") or "--" in value:
        return f"{_cut(value)} may not start or end with '-' nor hold '--' (an IANA service name)"
    return None


def label_key(key: str) -> str | None:
    """Why ``key`` is not a qualified name (label and annotation keys, selector keys), or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        return f"key {_cut(key)}: its prefix must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not _QUALIFIED.match(name):
        return f"key {_cut(key)} is not a qualified name (at most 63 letters, digits, '-', '_' or '.', " \
               "starting and ending with a letter or digit, after an optional 'prefix/')"
    return None


def label_value(value: str) -> str | None:
    """Why ``value`` is not a label value (empty, or as a qualified name without prefix), or None."""
    if value and (len(value) > 63 or not _QUALIFIED.match(value)):
        return f"value {_cut(value)} is not a label value (at most 63 letters, digits, '-', '_' or '.', " \
               "starting and ending with a letter or digit)"
    return None


def labels(values: Mapping[str, str], path: str, *, keys_only: bool = False) -> list[Problem]:
    """Problems of a label (or, ``keys_only``, annotation) map whose keys and values are strings."""
    out: list[Problem] = []
    for key, value in values.items():
        cause = label_key(key) or (None if keys_only else label_value(value))
        if cause:
            out.append((f"{path}.{key}", f"{cause}: {REFUSED}"))
    return out


def selector(kind: str, raw: Any, template_labels: Mapping[str, str], path: str) -> list[Problem]:
    """Problems of a workload's label selector against its pod template's labels.

    ``raw`` is ``spec.selector`` as written (None when absent). Deployments, ReplicaSets,
    StatefulSets and DaemonSets need one, not empty, that matches the template's labels;
    a ReplicationController's (a plain map) defaults to the template's labels. Other kinds
    are not asked (a Job's selector is generated by the server).
    """
    if kind == "ReplicationController":
        return _rc_selector(raw, template_labels, path)
    if kind not in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        return []
    if raw is None:
        return [(path, f"is missing: a {kind} in apps/v1 needs a selector ({REFUSED})")]
    if not isinstance(raw, dict):
        return [(path, f"expected a label selector (a mapping), got {type(raw).__name__}")]
    match_labels, expressions = raw.get("matchLabels") or {}, raw.get("matchExpressions") or []
    if not isinstance(match_labels, dict):
        return [(f"{path}.matchLabels", f"expected a mapping, got {type(match_labels).__name__}")]
    if not isinstance(expressions, list):
        return [(f"{path}.matchExpressions", f"expected a list, got {type(expressions).__name__}")]
    problems = _string_pairs(match_labels, f"{path}.matchLabels")
    problems += [p for i, e in enumerate(expressions) for p in _expression(e, f"{path}.matchExpressions[{i}]")]
    if problems:
        return problems
    if not match_labels and not expressions:
        return [(path, f"is empty: it would select every pod ({REFUSED} for a {kind})")]
    if not _matches(match_labels, expressions, template_labels):
        return [(path, f"{_describe(match_labels, expressions)} does not match the pod template's labels "
                       f"{_describe(template_labels, [])}: {REFUSED}")]
    return []


def _rc_selector(raw: Any, template_labels: Mapping[str, str], path: str) -> list[Problem]:
    if raw is None or raw == {}:
        chosen: Mapping[str, str] = template_labels
    elif not isinstance(raw, dict):
        return [(path, f"expected a mapping of labels, got {type(raw).__name__}")]
    else:
        problems = _string_pairs(raw, path)
        if problems:
            return problems
        chosen = raw
    if not chosen:
        return [(path, f"is empty and the pod template has no labels to default it from ({REFUSED})")]
    if not _matches(chosen, [], template_labels):
        return [(path, f"{_describe(chosen, [])} does not match the pod template's labels "
                       f"{_describe(template_labels, [])}: {REFUSED}")]
    return []


def _string_pairs(values: dict[Any, Any], path: str) -> list[Problem]:
    out: list[Problem] = []
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            bad = key if not isinstance(key, str) else value
            out.append((f"{path}.{key}", f"expected a string, got {type(bad).__name__} {bad!r}"[:200]))
        elif cause := label_key(key) or label_value(value):
            out.append((f"{path}.{key}", f"{cause}: {REFUSED}"))
    return out


def _expression(raw: Any, path: str) -> list[Problem]:
    if not isinstance(raw, dict):
        return [(path, f"expected a selector requirement (a mapping), got {type(raw).__name__}")]
    key, op, values = raw.get("key"), raw.get("operator"), raw.get("values")
    if not isinstance(key, str):
        return [(f"{path}.key", "is missing or not a string")]
    if cause := label_key(key):
        return [(f"{path}.key", f"{cause}: {REFUSED}")]
    if op not in SELECTOR_OPERATORS:
        return [(f"{path}.operator", f"{str(op)[:40]!r} is not one of {', '.join(SELECTOR_OPERATORS)}: {REFUSED}")]
    if values is not None and (not isinstance(values, list) or not all(isinstance(v, str) for v in values)):
        return [(f"{path}.values", "expected a list of strings")]
    if op in ("In", "NotIn") and not values:
        return [(f"{path}.values", f"must be given for the operator {op} ({REFUSED} without)")]
    if op in ("Exists", "DoesNotExist") and values:
        return [(f"{path}.values", f"must be empty for the operator {op} ({REFUSED} otherwise)")]
    return [(f"{path}.values", f"{cause}: {REFUSED}") for v in values or [] if (cause := label_value(v))]


def _matches(match_labels: Mapping[str, str], expressions: list[dict[str, Any]], have: Mapping[str, str]) -> bool:
    """Whether a pod with labels ``have`` is selected (requirements already validated)."""
    if any(have.get(k) != v for k, v in match_labels.items()):
        return False
    for e in expressions:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        present = key in have
        if (op == "In" and (not present or have[key] not in values)) or (
                op == "NotIn" and present and have[key] in values) or (
                op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def _describe(match_labels: Mapping[str, str], expressions: list[dict[str, Any]]) -> str:
    parts = [f"{k}={v}" for k, v in match_labels.items()]
    parts += [f"{e['key']} {e['operator']} ({', '.join(e.get('values') or [])})".replace(" ()", "")
              for e in expressions]
    return "{" + ", ".join(parts) + "}" if parts else "{}"


def _cut(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


#: resources a container may request by a bare name; any other needs a domain (``nvidia.com/gpu``)
CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
PROTOCOLS = ("TCP", "UDP", "SCTP")
SCHEMES = ("HTTP", "HTTPS")
SPREAD_WHEN = ("DoNotSchedule", "ScheduleAnyway")
#: restart policies the API server accepts in each kind's pod template
RESTART_POLICIES = {"Job": ("OnFailure", "Never"), "CronJob": ("OnFailure", "Never"),
                    "Pod": ("Always", "OnFailure", "Never")}


def resource_name(name: str) -> str | None:
    """Why a container may not request ``name`` (``cpus`` is a typo the server refuses), or None."""
    if name in CONTAINER_RESOURCES or name.startswith("hugepages-"):
        return None
    if "/" in name and label_key(name) is None:
        return None
    return f"{_cut(name)} is not a container resource (cpu, memory, ephemeral-storage, hugepages-<size>, " \
           "or a domain-qualified extended resource)"


def port_protocol(value: Any) -> str | None:
    if value is None or value in PROTOCOLS:
        return None
    return f"{_cut(str(value))} is not a protocol the API server accepts ({', '.join(PROTOCOLS)})"


def restart_policy(kind: str, value: Any) -> str | None:
    """Why a pod template of ``kind`` may not restart ``value``, or None (absent: the kind's default)."""
    allowed = RESTART_POLICIES.get(kind, ("Always",))
    if value is None or value in allowed:
        return None
    return f"{_cut(str(value))} is not accepted in a {kind}'s pods ({' or '.join(allowed)})"


def probe(which: str, raw: Mapping[str, Any], path: str) -> list[Problem]:
    """Problems of one probe the rules would otherwise judge as written: a liveness or startup
    probe must succeed once (successThreshold 1); httpGet speaks HTTP or HTTPS."""
    out: list[Problem] = []
    threshold = raw.get("successThreshold")
    if which in ("livenessProbe", "startupProbe") and isinstance(threshold, int) and threshold not in (0, 1):
        out.append((f"{path}.successThreshold", f"{threshold} for a {which}: it must be 1 ({REFUSED} otherwise)"))
    http = raw.get("httpGet")
    scheme = http.get("scheme") if isinstance(http, dict) else None
    if scheme is not None and scheme not in SCHEMES:
        out.append((f"{path}.httpGet.scheme", f"{_cut(str(scheme))} is not HTTP or HTTPS: {REFUSED}"))
    return out


def spread_constraint(raw: Mapping[str, Any], path: str) -> list[Problem]:
    """A topology spread constraint the scheduler would never get: maxSkew of at least 1, a
    known whenUnsatisfiable and a topologyKey."""
    out: list[Problem] = []
    skew = raw.get("maxSkew")
    if not isinstance(skew, int) or isinstance(skew, bool) or skew < 1:
        out.append((f"{path}.maxSkew", f"{skew!r}: it must be an integer of at least 1 ({REFUSED} otherwise)"))
    when = raw.get("whenUnsatisfiable")
    if when not in SPREAD_WHEN:
        out.append((f"{path}.whenUnsatisfiable", f"{str(when)[:40]!r} is not {' or '.join(SPREAD_WHEN)}: {REFUSED}"))
    if not raw.get("topologyKey"):
        out.append((f"{path}.topologyKey", f"is missing or empty: {REFUSED}"))
    return out


def deadlines(spec: Mapping[str, Any]) -> list[Problem]:
    """A Deployment's progress deadline must exceed its minReadySeconds, or no rollout could
    ever be seen to progress."""
    deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds")
    if isinstance(deadline, int) and isinstance(ready, int) and not isinstance(deadline, bool) \
            and not isinstance(ready, bool) and deadline <= ready:
        return [("spec.progressDeadlineSeconds", f"{deadline} is not greater than minReadySeconds {ready}: {REFUSED}")]
    return []


def volume_mounts(mounts: list[Any], volumes: Collection[str], path: str) -> list[Problem]:
    """Mounts of volumes the pod does not declare (a renamed or forgotten volume)."""
    out: list[Problem] = []
    for i, m in enumerate(mounts):
        if not isinstance(m, dict):
            out.append((f"{path}[{i}]", "expected a volume mount (a mapping)"))
            continue
        name = m.get("name")
        if not isinstance(name, str) or name not in volumes:
            out.append((f"{path}[{i}].name", f"{_cut(str(name))} is not a volume of the pod "
                                               f"({', '.join(sorted(volumes)) or 'it declares none'}): {REFUSED}"))
        if not m.get("mountPath"):
            out.append((f"{path}[{i}].mountPath", f"is missing: {REFUSED}"))
    return out


SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
AFFINITIES = ("None", "ClientIP")


def service(spec: Mapping[str, Any], path: str = "spec") -> list[Problem]:
    """What the API server refuses in a Service's spec: its type, session affinity and ports
    (number 1-65535, a DNS-1123 label as name, required and unique when there are several,
    TCP/UDP/SCTP, a targetPort that is a port number or an IANA service name)."""
    out: list[Problem] = []
    kind = spec.get("type")
    if kind is not None and kind not in SERVICE_TYPES:
        out.append((f"{path}.type", f"{_cut(str(kind))} is not one of {', '.join(SERVICE_TYPES)}: {REFUSED}"))
    affinity = spec.get("sessionAffinity")
    if affinity is not None and affinity not in AFFINITIES:
        out.append((f"{path}.sessionAffinity", f"{_cut(str(affinity))} is not None or ClientIP: {REFUSED}"))
    ports = spec.get("ports")
    if ports is None:
        return out
    if not isinstance(ports, list):
        return [*out, (f"{path}.ports", f"expected a list, got {type(ports).__name__}")]
    seen: set[str] = set()
    for i, port in enumerate(ports):
        at = f"{path}.ports[{i}]"
        if not isinstance(port, dict):
            out.append((at, "expected a port (a mapping)"))
            continue
        if cause := port_number(port.get("port")):
            out.append((f"{at}.port", f"{cause}: {REFUSED}"))
        name = port.get("name")
        if name is None or name == "":
            if len(ports) > 1:
                out.append((f"{at}.name", f"is required when a Service has more than one port: {REFUSED}"))
        elif not isinstance(name, str) or (cause := dns_label(name)):
            out.append((f"{at}.name", f"{cause if isinstance(name, str) else repr(name)}: {REFUSED}"))
        elif name in seen:
            out.append((f"{at}.name", f"duplicate port name {name!r}: {REFUSED}"))
        else:
            seen.add(name)
        if cause := port_protocol(port.get("protocol")):
            out.append((f"{at}.protocol", f"{cause}: {REFUSED}"))
        target = port.get("targetPort")
        if isinstance(target, str):
            if cause := port_name(target):
                out.append((f"{at}.targetPort", f"{cause}: {REFUSED}"))
        elif target is not None and (cause := port_number(target)):
            out.append((f"{at}.targetPort", f"{cause} or name: {REFUSED}"))
    return out
