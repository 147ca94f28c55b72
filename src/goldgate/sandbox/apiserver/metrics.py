"""The ``metrics.k8s.io/v1beta1`` read API behind ``kubectl top``.

Usage comes from the controllers (resident memory and CPU of each pod's process);
node usage is the sum over the pods on that node, which is what the sandbox's single
node is actually running.
"""

from __future__ import annotations

from typing import Any

from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.status import ApiError
from goldgate.sandbox.controllers.cpuwindow import WINDOW_S
from goldgate.sandbox.store import now_rfc3339

Obj = dict[str, Any]
API_VERSION = "metrics.k8s.io/v1beta1"
WINDOW = f"{WINDOW_S:g}s"  # the window the kubelet averages each pod's CPU rate over


def _cpu_millis(text: str) -> float:
    text = str(text)
    if text.endswith("n"):
        return float(text[:-1]) / 1e6
    if text.endswith("u"):
        return float(text[:-1]) / 1e3
    if text.endswith("m"):
        return float(text[:-1])
    return float(text) * 1000


_MEM = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}


def _mem_bytes(text: str) -> float:
    text = str(text)
    for suffix in sorted(_MEM, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _MEM[suffix]
    return float(text)


def _pod_metrics(ctx: ServerContext, pod: Obj) -> Obj | None:
    if ctx.cluster is None:
        return None
    meta = pod["metadata"]
    usage = ctx.cluster.pod_usage(meta.get("namespace", ""), meta["name"])
    if not usage:
        return None
    return {
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "creationTimestamp": now_rfc3339(),
            "labels": meta.get("labels") or {},
        },
        "timestamp": now_rfc3339(),
        "window": WINDOW,
        "containers": [{"name": name, "usage": dict(values)} for name, values in sorted(usage.items())],
    }


def pod_metrics_list(ctx: ServerContext, namespace: str | None, label_selector: str | None) -> Obj:
    pods, _ = ctx.store.list("pods", namespace, label_selector=label_selector)
    items = [m for m in (_pod_metrics(ctx, p) for p in pods) if m is not None]
    return {"kind": "PodMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}


def pod_metrics(ctx: ServerContext, namespace: str, name: str) -> Obj:
    pod = ctx.store.find("pods", namespace, name)
    metrics = _pod_metrics(ctx, pod) if pod else None
    if metrics is None:
        raise ApiError(404, f'podmetrics.metrics.k8s.io "{namespace}/{name}" not found', "NotFound")
    return {"kind": "PodMetrics", "apiVersion": API_VERSION, **metrics}


def _node_metrics(ctx: ServerContext, node: Obj) -> Obj:
    name = node["metadata"]["name"]
    cpu = mem = 0.0
    pods, _ = ctx.store.list("pods", None, field_selector=f"spec.nodeName={name}")
    for pod in pods:
        metrics = _pod_metrics(ctx, pod)
        for c in (metrics or {}).get("containers", []):
            cpu += _cpu_millis(c["usage"].get("cpu", "0"))
            mem += _mem_bytes(c["usage"].get("memory", "0"))
    return {
        "metadata": {"name": name, "creationTimestamp": now_rfc3339(), "labels": node["metadata"].get("labels") or {}},
        "timestamp": now_rfc3339(),
        "window": WINDOW,
        "usage": {"cpu": f"{int(cpu)}m", "memory": f"{int(mem // 1024)}Ki"},
    }


def node_metrics_list(ctx: ServerContext, label_selector: str | None) -> Obj:
    nodes, _ = ctx.store.list("nodes", None, label_selector=label_selector)
    return {"kind": "NodeMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": [_node_metrics(ctx, n) for n in nodes]}


def node_metrics(ctx: ServerContext, name: str) -> Obj:
    node = ctx.store.find("nodes", None, name)
    if node is None:
        raise ApiError(404, f'nodemetrics.metrics.k8s.io "{name}" not found', "NotFound")
    return {"kind": "NodeMetrics", "apiVersion": API_VERSION, **_node_metrics(ctx, node)}
