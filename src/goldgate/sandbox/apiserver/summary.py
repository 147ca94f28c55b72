"""The kubelet's Summary API (stats/v1alpha1) behind ``/api/v1/nodes/NODE/proxy/stats/summary``.

On a cluster this is what ``kubectl get --raw`` and metrics-server read for a pod's network
I/O (guide §8.3): the bytes the pod's interface received and sent since it started. The
sandbox counts them per pod with netfilter (:mod:`goldgate.sandbox.netaccount`); a pod the
sandbox does not account (accounting off, or no host port) has no ``network`` key, as the
kubelet omits it for a hostNetwork pod.
"""

from __future__ import annotations

import asyncio
from typing import Any

from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.status import ApiError
from goldgate.sandbox.store import now_rfc3339

Obj = dict[str, Any]
#: The sandbox's pods all share loopback; the Summary names the interface that carried the bytes.
INTERFACE = "lo"


def _network(counted: dict[str, int], now: str) -> Obj:
    rx, tx = int(counted["rxBytes"]), int(counted["txBytes"])
    return {"time": now, "name": INTERFACE, "rxBytes": rx, "txBytes": tx,
            "interfaces": [{"name": INTERFACE, "rxBytes": rx, "txBytes": tx}]}


def _summary(ctx: ServerContext, node_name: str) -> Obj:
    node = ctx.store.find("nodes", None, node_name)
    if node is None:
        raise ApiError(404, f'nodes "{node_name}" not found', "NotFound")
    pods, _ = ctx.store.list("pods", None, field_selector=f"spec.nodeName={node_name}")
    now = now_rfc3339()
    networks = ctx.cluster.pod_networks() if ctx.cluster else {}  # one read for every pod
    items = []
    for pod in pods:
        meta = pod["metadata"]
        entry: Obj = {"podRef": {"name": meta["name"], "namespace": meta.get("namespace", ""),
                                 "uid": meta.get("uid", "")},
                      "startTime": (pod.get("status") or {}).get("startTime") or meta.get("creationTimestamp")}
        counted = networks.get((meta.get("namespace", ""), meta["name"]))
        if counted is not None:
            entry["network"] = _network(counted, now)
        items.append(entry)
    return {"node": {"nodeName": node_name, "startTime": node["metadata"].get("creationTimestamp")},
            "pods": items}


async def summary(ctx: ServerContext, node_name: str) -> Obj:
    """The Summary; counters are read in a thread (iptables is a subprocess)."""
    return await asyncio.to_thread(_summary, ctx, node_name)
