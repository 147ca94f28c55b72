"""Guide §8.3 "Network: Network I/O": the bytes each selected pod moved, as its kubelet counts them.

The kubelet keeps per-pod network counters and serves them in its Summary API
(``stats/v1alpha1``), which the API server proxies at
``GET /api/v1/nodes/{node}/proxy/stats/summary`` (RBAC: ``get`` on ``nodes/proxy``). The
counters are cumulative since the pod's sandbox started, so one reading says little; a
:class:`NetworkWindow` reads them at both ends of a window and returns the bytes moved
inside it. Read-only; it measures and never decides (``goldgate.criteria.network_io`` does).

Why the Summary API and not ``metrics.k8s.io``: the metrics API serves CPU and memory only.
Why each node once per reading: one Summary holds every pod of its node, and the bytes of
the pods of one reading must be comparable in time.

Examples::

    reading = read_pod_network(kube, "trading", "app=trading-bot,track=canary")
    window = NetworkWindow(kube, "trading", "app=trading-bot,track=canary")
    ...                                   # traffic flows
    deltas = window.close()               # per pod rx/tx bytes over deltas.elapsed_s
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldgate.probes.kubernetes import KubeClients, KubernetesUnavailable, call

__all__ = [
    "SUMMARY_PATH",
    "DeltaState",
    "NetworkDeltas",
    "NetworkReading",
    "NetworkWindow",
    "PodDelta",
    "PodNetwork",
    "deltas_between",
    "parse_summary",
    "read_pod_network",
]

SUMMARY_PATH = "stats/summary"


class DeltaState(enum.StrEnum):
    """What a pod's delta over a window is (:attr:`PodDelta.state`)."""

    MEASURED = "measured"        # counters read at both ends, not lower at the end
    RESET = "reset"              # a counter went down, or the pod was replaced: its sandbox restarted
    APPEARED = "appeared"        # not selected at the start (a new pod): its earlier bytes are unknown
    DISAPPEARED = "disappeared"  # selected at the start, gone at the end: its last bytes are unknown
    UNMEASURED = "unmeasured"    # no network statistics at one end or both (the note says which)
    STALE = "stale"              # the kubelet did not refresh the pod's counters inside the window


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _count(value: Any) -> float | None:
    """A byte counter as the kubelet sends it (uint64), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


@dataclass(frozen=True)
class PodNetwork:
    """One pod's cumulative byte counters at the kubelet's timestamp, or why there are none."""

    pod: str
    node: str
    rx_bytes: float | None = None
    tx_bytes: float | None = None
    #: the kubelet's timestamp of the counters (``network.time``), epoch seconds
    time: float | None = None
    uid: str = ""
    #: why the pod has no counters ("" when it has them)
    missing: str = ""

    @property
    def measured(self) -> bool:
        return not self.missing and self.rx_bytes is not None and self.tx_bytes is not None


@dataclass(frozen=True)
class NetworkReading:
    """Every selected pod's counters, read once per node; ``read_at`` is this machine's clock."""

    namespace: str
    selector: str
    pods: tuple[PodNetwork, ...]
    read_at: float
    nodes: tuple[str, ...] = ()

    def by_pod(self) -> dict[str, PodNetwork]:
        return {p.pod: p for p in self.pods}


def _pod_counters(entry: Mapping[str, Any], pod: str, node: str, uid: str) -> PodNetwork:
    """The pod's default interface (the Summary's inline rxBytes/txBytes); when only the
    ``interfaces`` list is given, their sum."""
    net = entry.get("network")
    if net is None:
        return PodNetwork(pod, node, uid=uid, missing=f"the kubelet's summary on node {node} has no network "
                          f"statistics for pod {pod} (the kubelet omits them for hostNetwork pods)")
    if not isinstance(net, Mapping):
        return PodNetwork(pod, node, uid=uid, missing=f"node {node}'s summary: pods[{pod}].network is not an object")
    rx, tx = _count(net.get("rxBytes")), _count(net.get("txBytes"))
    where = "network"
    if rx is None and tx is None and isinstance(net.get("interfaces"), list) and net["interfaces"]:
        ifaces = [i for i in net["interfaces"] if isinstance(i, Mapping)]
        rxs = [_count(i.get("rxBytes")) for i in ifaces]
        txs = [_count(i.get("txBytes")) for i in ifaces]
        if ifaces and all(v is not None for v in rxs + txs):
            rx, tx = sum(rxs), sum(txs)  # type: ignore[arg-type]
        where = "network.interfaces"
    if rx is None or tx is None:
        return PodNetwork(pod, node, uid=uid, missing=(
            f"node {node}'s summary: pods[{pod}].{where} has no usable rxBytes/txBytes "
            f"(rxBytes={net.get('rxBytes')!r}, txBytes={net.get('txBytes')!r})"))
    return PodNetwork(pod, node, rx, tx, _epoch(net.get("time")), uid=uid)


def parse_summary(body: Any, node: str, namespace: str, wanted: Mapping[str, str]) -> list[PodNetwork]:
    """The counters of the ``wanted`` pods (name -> uid, "" when unknown) in one node's Summary.

    ``body`` is the decoded JSON of ``stats/summary``. A body that is not a Summary raises
    :class:`KubernetesUnavailable` naming the node and the field; a pod missing from it or
    without a ``network`` key is returned with the reason in ``missing``.
    """
    if not isinstance(body, Mapping):
        raise KubernetesUnavailable(f"node {node}: the kubelet's summary is not a JSON object "
                                    f"(got {type(body).__name__})")
    pods = body.get("pods")
    if not isinstance(pods, list):
        raise KubernetesUnavailable(f"node {node}: the kubelet's summary has no 'pods' list")
    found: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(pods):
        ref = entry.get("podRef") if isinstance(entry, Mapping) else None
        if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str):
            raise KubernetesUnavailable(f"node {node}: the kubelet's summary: pods[{i}].podRef.name is missing")
        if ref.get("namespace") == namespace and ref["name"] in wanted:
            uid = wanted[ref["name"]]
            if uid and ref.get("uid") and ref.get("uid") != uid:
                continue  # an earlier pod of the same name: not the one selected
            found[ref["name"]] = entry
    out = []
    for name, uid in sorted(wanted.items()):
        entry = found.get(name)
        if entry is None:
            out.append(PodNetwork(name, node, uid=uid, missing=f"pod {name} is not in node {node}'s summary"))
        else:
            out.append(_pod_counters(entry, name, node, uid))
    return out


def _summary(kube: KubeClients, node: str) -> Any:
    """One node's Summary as JSON. ``_preload_content=False``: the client would otherwise
    return the proxied body as a Python-repr'd ``str`` (its declared type), not JSON."""

    def fetch(**kwargs: Any) -> bytes:
        resp = kube.core.connect_get_node_proxy_with_path(node, SUMMARY_PATH, _preload_content=False, **kwargs)
        try:
            return bytes(resp.read())
        finally:
            resp.release_conn()

    raw = call(kube, f"read node {node}'s kubelet summary (GET nodes/{node}/proxy/{SUMMARY_PATH}; "
               "RBAC: get nodes/proxy)", fetch)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KubernetesUnavailable(f"{kube.server}: node {node}: the kubelet's summary is not JSON "
                                    f"({type(exc).__name__}: {str(exc)[:80]})") from None


def read_pod_network(kube: KubeClients, namespace: str, label_selector: str,
                     *, clock: Callable[[], float] = time.time) -> NetworkReading:
    """Each selected pod's counters (pods being deleted left out), one Summary per node.

    Raises :class:`KubernetesUnavailable` (naming the node) when a Summary cannot be read
    or is not a Summary; a pod the Summary does not cover is kept with its reason.
    """
    pods = call(kube, f"list pods {namespace} {label_selector}", kube.core.list_namespaced_pod,
                namespace, label_selector=label_selector)
    by_node: dict[str, dict[str, str]] = {}
    unscheduled: list[PodNetwork] = []
    for pod in pods.items:
        meta = pod.metadata
        if meta.deletion_timestamp is not None:
            continue
        node = (pod.spec.node_name if pod.spec else None) or ""
        if not node:
            unscheduled.append(PodNetwork(meta.name, "", uid=meta.uid or "",
                                          missing=f"pod {meta.name} is not scheduled on a node"))
            continue
        by_node.setdefault(node, {})[meta.name] = meta.uid or ""
    read: list[PodNetwork] = list(unscheduled)
    for node, wanted in sorted(by_node.items()):
        read += parse_summary(_summary(kube, node), node, namespace, wanted)
    return NetworkReading(namespace, label_selector, tuple(sorted(read, key=lambda p: p.pod)),
                          clock(), tuple(sorted(by_node)))


@dataclass(frozen=True)
class PodDelta:
    """One pod's bytes over a window (``state`` MEASURED), or why they are not known."""

    pod: str
    state: DeltaState
    rx_bytes: float | None = None
    tx_bytes: float | None = None
    node: str = ""
    note: str = ""
    #: seconds between the kubelet's timestamps of the two readings: the interval the bytes
    #: really cover (the kubelet refreshes its counters every several seconds, so it can
    #: differ from the window by that much at each end)
    counter_span_s: float | None = None

    @property
    def total_bytes(self) -> float | None:
        if self.state != DeltaState.MEASURED or self.rx_bytes is None or self.tx_bytes is None:
            return None
        return self.rx_bytes + self.tx_bytes


@dataclass(frozen=True)
class NetworkDeltas:
    """The bytes each selected pod moved over one window, with the window's length."""

    namespace: str
    selector: str
    pods: tuple[PodDelta, ...]
    elapsed_s: float
    nodes: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


def _delta(before: PodNetwork | None, after: PodNetwork | None) -> PodDelta:
    if before is None and after is not None:
        return PodDelta(after.pod, DeltaState.APPEARED, node=after.node,
                        note=f"pod {after.pod} appeared inside the window: its bytes before it are not in the window's start")
    if after is None and before is not None:
        return PodDelta(before.pod, DeltaState.DISAPPEARED, node=before.node,
                        note=f"pod {before.pod} disappeared inside the window: its last bytes are unknown")
    assert before is not None and after is not None
    name, node = after.pod, after.node or before.node
    if not before.measured or not after.measured:
        why = "; ".join(dict.fromkeys(p.missing for p in (before, after) if p.missing))
        return PodDelta(name, DeltaState.UNMEASURED, node=node, note=why or f"pod {name} has no network statistics")
    if before.uid and after.uid and before.uid != after.uid:
        return PodDelta(name, DeltaState.RESET, node=node, note=f"pod {name} was replaced inside the window (uid changed)")
    assert before.rx_bytes is not None and before.tx_bytes is not None
    assert after.rx_bytes is not None and after.tx_bytes is not None
    rx, tx = after.rx_bytes - before.rx_bytes, after.tx_bytes - before.tx_bytes
    if rx < 0 or tx < 0:
        return PodDelta(name, DeltaState.RESET, rx, tx, node, note=(
            f"pod {name}'s counters went down inside the window (rx {before.rx_bytes:.0f} -> {after.rx_bytes:.0f}, "
            f"tx {before.tx_bytes:.0f} -> {after.tx_bytes:.0f}): its network sandbox restarted"))
    if before.time is not None and after.time is not None and after.time <= before.time:
        return PodDelta(name, DeltaState.STALE, rx, tx, node, note=(
            f"the kubelet on node {node} did not refresh pod {name}'s counters inside the window "
            "(same timestamp at both ends): a longer window is needed"))
    span = after.time - before.time if before.time is not None and after.time is not None else None
    return PodDelta(name, DeltaState.MEASURED, rx, tx, node, counter_span_s=span)


def deltas_between(start: NetworkReading, end: NetworkReading) -> NetworkDeltas:
    """Per-pod bytes between two readings of the same selection."""
    a, b = start.by_pod(), end.by_pod()
    pods = tuple(_delta(a.get(n), b.get(n)) for n in sorted(set(a) | set(b)))
    return NetworkDeltas(end.namespace, end.selector, pods, end.read_at - start.read_at,
                         tuple(sorted(set(start.nodes) | set(end.nodes))),
                         {"start": start.read_at, "end": end.read_at})


class NetworkWindow:
    """Counters read at construction and at :meth:`close`; the difference is the window's bytes.

    A window whose requests are counted elsewhere (the metric source) should be opened just
    before and closed just after that count, so both cover the same traffic.
    """

    def __init__(self, kube: KubeClients, namespace: str, label_selector: str,
                 *, clock: Callable[[], float] = time.time) -> None:
        self._kube, self._namespace, self._selector, self._clock = kube, namespace, label_selector, clock
        self.start = read_pod_network(kube, namespace, label_selector, clock=clock)

    def close(self) -> NetworkDeltas:
        end = read_pod_network(self._kube, self._namespace, self._selector, clock=self._clock)
        return deltas_between(self.start, end)
