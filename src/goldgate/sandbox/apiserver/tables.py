"""Server-side printing: the ``Table`` answers behind ``kubectl get``.

kubectl asks for ``application/json;as=Table;g=meta.k8s.io;v=v1`` and prints the
columns it receives verbatim, so the columns and cell formats follow upstream's
printers (``READY 1/1``, ``RESTARTS 2 (5m ago)``, ``AGE 3m12s``...). Without this the
runbook's ``kubectl get pods`` would show only NAME and AGE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Column = tuple[str, str, int]  # name, type, priority


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """Upstream's HumanDuration: 45s, 3m12s, 17m, 5h3m, 2d4h, 40d."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def age(timestamp: str | None) -> str:
    t = _parse_time(timestamp)
    if t is None:
        return "<unknown>"
    return human_duration((dt.datetime.now(dt.UTC) - t).total_seconds())


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _name(obj: Obj) -> str:
    return _meta(obj).get("name", "")


def _age(obj: Obj) -> str:
    return age(_meta(obj).get("creationTimestamp"))


# ----------------------------------------------------------------------------- pods
def pod_status_reason(pod: Obj) -> str:
    """What the STATUS column shows, following upstream printPod's precedence."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for cs in status.get("initContainerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("terminated", {}).get("exitCode", 0) == 0 and "terminated" in state:
            continue
        if state.get("waiting", {}).get("reason") not in (None, "PodInitializing"):
            return f"Init:{state['waiting']['reason']}"
    has_running = False
    for cs in reversed(status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            sig = terminated.get("signal")
            reason = f"Signal:{sig}" if sig else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif cs.get("ready") and "running" in state:
            has_running = True
    if reason == "Completed" and has_running:
        reason = "Running"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_restarts(pod: Obj) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    last = None
    for cs in statuses:
        finished = _parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if finished and (last is None or finished > last):
            last = finished
    if restarts and last:
        return f"{restarts} ({human_duration((dt.datetime.now(dt.UTC) - last).total_seconds())} ago)"
    return str(restarts)


def _pod_row(pod: Obj) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    total = len(spec.get("containers") or [])
    gates = spec.get("readinessGates") or []
    return [
        _name(pod),
        f"{ready}/{total}",
        pod_status_reason(pod),
        _pod_restarts(pod),
        _age(pod),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{len(gates)}" if gates else "<none>",
    ]


_POD_COLUMNS: list[Column] = [
    ("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0),
    ("Restarts", "string", 0), ("Age", "string", 0), ("IP", "string", 1),
    ("Node", "string", 1), ("Nominated Node", "string", 1), ("Readiness Gates", "string", 1),
]


# ----------------------------------------------------------------------------- workloads
def _containers_images(template_spec: Obj) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def _selector_text(selector: Obj | None) -> str:
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator", "")
        values = ",".join(expr.get("values") or [])
        if op == "In":
            parts.append(f"{expr.get('key')} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr.get('key')} notin ({values})")
        elif op == "Exists":
            parts.append(str(expr.get("key")))
        else:
            parts.append(f"!{expr.get('key')}")
    return ",".join(parts) or "<none>"


def _deployment_row(d: Obj) -> list[Any]:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers_images(((spec.get("template") or {}).get("spec")) or {})
    return [
        _name(d),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(d),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _replicaset_row(rs: Obj) -> list[Any]:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers_images(((spec.get("template") or {}).get("spec")) or {})
    return [
        _name(rs), spec.get("replicas", 0), status.get("replicas", 0), status.get("readyReplicas", 0),
        _age(rs), names, images, _selector_text(spec.get("selector")),
    ]


# ----------------------------------------------------------------------------- services etc.
def _service_row(svc: Obj) -> list[Any]:
    spec = svc.get("spec") or {}
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or ",".join(spec.get("externalIPs") or [])
    if not external:
        external = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    ports = []
    for p in spec.get("ports") or []:
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        ports.append(f"{text}/{p.get('protocol', 'TCP')}")
    selector = spec.get("selector") or {}
    return [
        _name(svc), spec.get("type", "ClusterIP"), spec.get("clusterIP") or "<none>", external,
        ",".join(ports) or "<none>", _age(svc),
        ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>",
    ]


def _endpoints_row(ep: Obj) -> list[Any]:
    addrs = []
    for subset in ep.get("subsets") or []:
        for a in subset.get("addresses") or []:
            for p in subset.get("ports") or [{}]:
                addrs.append(f"{a.get('ip')}:{p.get('port')}" if p.get("port") else str(a.get("ip")))
    text = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
    return [_name(ep), text or "<none>", _age(ep)]


def _node_row(node: Obj) -> list[Any]:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = [k.split("/", 1)[1] for k in (_meta(node).get("labels") or {}) if k.startswith("node-role.kubernetes.io/")]
    status = node.get("status") or {}
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        _name(node), state, ",".join(roles) or "<none>", _age(node), info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>", addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event_row(ev: Obj) -> list[Any]:
    last = ev.get("lastTimestamp") or ev.get("eventTime") or _meta(ev).get("creationTimestamp")
    involved = ev.get("involvedObject") or {}
    return [
        age(last), ev.get("type", ""), ev.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}", ev.get("message", ""),
    ]


def _data_count(obj: Obj) -> int:
    return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})


def _gateway_row(gw: Obj) -> list[Any]:
    """The Gateway API CRD's printer columns: CLASS, ADDRESS, PROGRAMMED, AGE."""
    status = gw.get("status") or {}
    address = next((a.get("value", "") for a in status.get("addresses") or []), "")
    programmed = next((c.get("status", "Unknown") for c in status.get("conditions") or []
                       if c.get("type") == "Programmed"), "Unknown")
    return [_name(gw), (gw.get("spec") or {}).get("gatewayClassName", ""), address, programmed, _age(gw)]


def _ingress_row(ing: Obj) -> list[Any]:
    spec = ing.get("spec") or {}
    hosts = ",".join(r.get("host", "") for r in spec.get("rules") or [] if r.get("host")) or "*"
    lb = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname", "") for i in lb)
    ports = "80, 443" if spec.get("tls") else "80"
    return [_name(ing), spec.get("ingressClassName") or "<none>", hosts, address, ports, _age(ing)]


_Printer = tuple[list[Column], Callable[[Obj], list[Any]]]

_AGE_ONLY: _Printer = ([("Name", "string", 0), ("Age", "string", 0)], lambda o: [_name(o), _age(o)])

PRINTERS: dict[str, _Printer] = {
    "pods": (_POD_COLUMNS, _pod_row),
    "deployments": (
        [("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0),
         ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)],
        _deployment_row,
    ),
    "replicasets": (
        [("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
         ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)],
        _replicaset_row,
    ),
    "services": (
        [("Name", "string", 0), ("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0),
         ("Port(s)", "string", 0), ("Age", "string", 0), ("Selector", "string", 1)],
        _service_row,
    ),
    "endpoints": ([("Name", "string", 0), ("Endpoints", "string", 0), ("Age", "string", 0)], _endpoints_row),
    "nodes": (
        [("Name", "string", 0), ("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0),
         ("Version", "string", 0), ("Internal-IP", "string", 1), ("External-IP", "string", 1),
         ("OS-Image", "string", 1), ("Kernel-Version", "string", 1), ("Container-Runtime", "string", 1)],
        _node_row,
    ),
    "namespaces": (
        [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)],
        lambda o: [_name(o), (o.get("status") or {}).get("phase", "Active"), _age(o)],
    ),
    "events": (
        [("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0), ("Object", "string", 0),
         ("Message", "string", 0)],
        _event_row,
    ),
    "configmaps": (
        [("Name", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)],
        lambda o: [_name(o), _data_count(o), _age(o)],
    ),
    "secrets": (
        [("Name", "string", 0), ("Type", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)],
        lambda o: [_name(o), o.get("type", "Opaque"), _data_count(o), _age(o)],
    ),
    "serviceaccounts": (
        [("Name", "string", 0), ("Secrets", "integer", 0), ("Age", "string", 0)],
        lambda o: [_name(o), len(o.get("secrets") or []), _age(o)],
    ),
    "gateways": (
        [("Name", "string", 0), ("Class", "string", 0), ("Address", "string", 0), ("Programmed", "string", 0),
         ("Age", "string", 0)],
        _gateway_row,
    ),
    "httproutes": (
        [("Name", "string", 0), ("Hostnames", "string", 0), ("Age", "string", 0)],
        lambda o: [_name(o), ",".join((o.get("spec") or {}).get("hostnames") or []), _age(o)],
    ),
    "ingresses": (
        [("Name", "string", 0), ("Class", "string", 0), ("Hosts", "string", 0), ("Address", "string", 0),
         ("Ports", "string", 0), ("Age", "string", 0)],
        _ingress_row,
    ),
    "networkpolicies": (
        [("Name", "string", 0), ("Pod-Selector", "string", 0), ("Age", "string", 0)],
        lambda o: [_name(o), _selector_text((o.get("spec") or {}).get("podSelector")).replace("<none>", "<none>"), _age(o)],
    ),
}


def _column_definitions(columns: list[Column]) -> list[Obj]:
    return [
        {"name": name, "type": ctype, "format": "name" if name == "Name" else "", "description": "", "priority": prio}
        for name, ctype, prio in columns
    ]


def _row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def table(
    resource: str,
    items: list[Obj],
    *,
    resource_version: str,
    include_object: str = "Metadata",
    with_columns: bool = True,
    table_version: str = "v1",
) -> Obj:
    """Render ``items`` as a meta.k8s.io Table."""
    columns, row = PRINTERS.get(resource, _AGE_ONLY)
    rows = []
    for obj in items:
        entry: Obj = {"cells": row(obj)}
        embedded = _row_object(obj, include_object)
        if embedded is not None:
            entry["object"] = embedded
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{table_version}",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": _column_definitions(columns) if with_columns else [],
        "rows": rows,
    }
