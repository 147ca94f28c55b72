"""The §8.3 network I/O probe: the kubelet's Summary API read through the official client.

The Summary bodies below are shaped as the kubelet's ``stats/v1alpha1`` types document them
(``Summary{node, pods}``, ``PodStats{podRef{name, namespace, uid}, network}``,
``NetworkStats{time, InterfaceStats{name, rxBytes, rxErrors, txBytes, txErrors}, interfaces}``;
the kubelet leaves ``network`` out for hostNetwork pods). They are served over loopback HTTP
to a real ``kubernetes`` client (``Configuration(host="http://127.0.0.1:<port>")``), so the
real client path runs: the pod list, ``connect_get_node_proxy_with_path`` with
``_preload_content=False``, the status check that raises on 403, the timeouts.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client

from goldgate.clients.kubernetes import KubeClients
from goldgate.probes.kubernetes import KubernetesUnavailable
from goldgate.probes.pod_network import (
    DeltaState,
    NetworkWindow,
    parse_summary,
    read_pod_network,
)

NS = "trading"
SELECTOR = "app=trading-bot"


def _iface(rx: int, tx: int, name: str = "eth0") -> dict[str, Any]:
    return {"name": name, "rxBytes": rx, "rxErrors": 0, "txBytes": tx, "txErrors": 0}


def _pod_stats(name: str, uid: str, rx: int | None, tx: int | None, at: str = "2026-12-06T19:00:00Z",
               namespace: str = NS) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "podRef": {"name": name, "namespace": namespace, "uid": uid},
        "startTime": "2026-12-06T18:00:00Z",
        "containers": [{"name": "bot", "startTime": "2026-12-06T18:00:01Z",
                        "cpu": {"time": at, "usageNanoCores": 2_000_000, "usageCoreNanoSeconds": 9_000_000_000},
                        "memory": {"time": at, "workingSetBytes": 50_000_000}}],
        "cpu": {"time": at, "usageNanoCores": 2_000_000, "usageCoreNanoSeconds": 9_000_000_000},
        "memory": {"time": at, "workingSetBytes": 52_000_000},
        "volume": [], "process_stats": {"process_count": 1},
    }
    if rx is not None and tx is not None:
        stats["network"] = {"time": at, **_iface(rx, tx), "interfaces": [_iface(rx, tx)]}
    return stats


def _summary(node: str, pods: list[dict[str, Any]]) -> dict[str, Any]:
    return {"node": {"nodeName": node, "startTime": "2026-12-06T17:00:00Z",
                     "network": {"time": "2026-12-06T19:00:00Z", **_iface(10**9, 10**9),
                                 "interfaces": [_iface(10**9, 10**9)]}},
            "pods": pods}


def _pod(name: str, uid: str, node: str | None, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "uid": uid, "labels": {"app": "trading-bot"}}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-06T19:00:00Z"
    return {"metadata": meta, "spec": {"containers": [{"name": "bot", "image": "bot:v2"}],
                                       **({"nodeName": node} if node else {})},
            "status": {"phase": "Running"}}


class _Kubelets:
    """What the fake API server answers: the pod list and each node's Summary (or a failure)."""

    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] = []
        # node -> Summary dict, (status, raw body), or seconds to wait before answering
        self.summaries: dict[str, Any] = {}
        self.requests: list[str] = []


@pytest.fixture
def kubelets() -> Iterator[tuple[_Kubelets, KubeClients]]:
    state = _Kubelets()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            # the client sends the proxied path's slash as %2F; an API server (Go's net/http)
            # routes on the decoded path, as this one does
            path = urllib.parse.unquote(self.path.split("?")[0])
            state.requests.append(path)
            if path == f"/api/v1/namespaces/{NS}/pods":
                self._send(200, json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                            "items": state.pods}).encode())
                return
            parts = path.strip("/").split("/")
            if len(parts) == 7 and parts[:3] == ["api", "v1", "nodes"] and parts[4:] == ["proxy", "stats", "summary"]:
                answer = state.summaries.get(parts[3])
                if answer is None:
                    self._send(404, json.dumps({"kind": "Status", "code": 404, "reason": "NotFound"}).encode())
                elif isinstance(answer, float):  # a kubelet that does not answer in time
                    time.sleep(answer)
                    self._send(200, json.dumps(_summary(parts[3], [])).encode())
                elif isinstance(answer, tuple):
                    self._send(answer[0], answer[1], "text/plain")
                else:
                    self._send(200, json.dumps(answer).encode())
                return
            self._send(404, b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    cfg = client.Configuration(host=f"http://127.0.0.1:{server.server_address[1]}")
    cfg.retries = 0
    api = client.ApiClient(cfg)
    kube = KubeClients(api, client.CoreV1Api(api), client.AppsV1Api(api), client.NetworkingV1Api(api),
                       client.CustomObjectsApi(api), cfg.host, (1.0, 1.0))
    try:
        yield state, kube
    finally:
        api.close()
        server.shutdown()
        server.server_close()


def test_summary_parsing_takes_the_default_interface_and_names_what_is_missing() -> None:
    body = _summary("node-a", [
        _pod_stats("bot-a", "u-a", 1_000, 2_000),
        _pod_stats("bot-b", "u-b", None, None),              # hostNetwork: no "network" key
        _pod_stats("bot-a", "u-x", 9, 9, namespace="other"),  # same name, another namespace
    ])
    read = {p.pod: p for p in parse_summary(body, "node-a", NS, {"bot-a": "u-a", "bot-b": "u-b", "bot-c": ""})}
    assert (read["bot-a"].rx_bytes, read["bot-a"].tx_bytes) == (1_000, 2_000)
    assert read["bot-a"].time is not None and read["bot-a"].measured
    assert "has no network statistics for pod bot-b" in read["bot-b"].missing
    assert read["bot-c"].missing == "pod bot-c is not in node node-a's summary"


def test_summary_of_an_earlier_pod_with_the_same_name_is_not_read() -> None:
    body = _summary("node-a", [_pod_stats("bot-a", "old-uid", 5, 5)])
    (pod,) = parse_summary(body, "node-a", NS, {"bot-a": "new-uid"})
    assert not pod.measured and "not in node node-a's summary" in pod.missing


@pytest.mark.parametrize("body", [[], {"node": {}}, {"pods": [{"network": {}}]}])
def test_a_body_that_is_no_summary_is_a_clear_error(body: Any) -> None:
    with pytest.raises(KubernetesUnavailable, match="node node-a"):
        parse_summary(body, "node-a", NS, {"bot-a": ""})


def test_reading_through_the_real_client_groups_pods_by_node(kubelets) -> None:
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a"), _pod("bot-b", "u-b", "node-b"), _pod("bot-c", "u-c", "node-a"),
                  _pod("bot-old", "u-o", "node-a", deleting=True), _pod("bot-new", "u-n", None)]
    state.summaries = {"node-a": _summary("node-a", [_pod_stats("bot-a", "u-a", 100, 200),
                                                     _pod_stats("bot-c", "u-c", 300, 400)]),
                       "node-b": _summary("node-b", [_pod_stats("bot-b", "u-b", 500, 600)])}
    reading = read_pod_network(kube, NS, SELECTOR)
    pods = reading.by_pod()
    assert sorted(pods) == ["bot-a", "bot-b", "bot-c", "bot-new"]  # the one being deleted left out
    assert (pods["bot-b"].rx_bytes, pods["bot-b"].tx_bytes, pods["bot-b"].node) == (500, 600, "node-b")
    assert pods["bot-new"].missing == "pod bot-new is not scheduled on a node"
    assert reading.nodes == ("node-a", "node-b")
    summary_reads = [r for r in state.requests if r.endswith("/proxy/stats/summary")]
    assert sorted(summary_reads) == ["/api/v1/nodes/node-a/proxy/stats/summary",
                                     "/api/v1/nodes/node-b/proxy/stats/summary"]  # each node once


def test_window_reports_deltas_resets_and_pods_that_came_or_went(kubelets) -> None:
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a"), _pod("bot-b", "u-b", "node-a"), _pod("bot-gone", "u-g", "node-a")]
    state.summaries = {"node-a": _summary("node-a", [
        _pod_stats("bot-a", "u-a", 1_000, 2_000, "2026-12-06T19:00:00Z"),
        _pod_stats("bot-b", "u-b", 50_000, 60_000, "2026-12-06T19:00:00Z"),
        _pod_stats("bot-gone", "u-g", 1, 1, "2026-12-06T19:00:00Z")])}
    ticks = iter([100.0, 130.0])
    window = NetworkWindow(kube, NS, SELECTOR, clock=lambda: next(ticks))
    state.pods = [_pod("bot-a", "u-a", "node-a"), _pod("bot-b", "u-b", "node-a"), _pod("bot-new", "u-n", "node-a")]
    state.summaries = {"node-a": _summary("node-a", [
        _pod_stats("bot-a", "u-a", 41_000, 82_000, "2026-12-06T19:00:30Z"),
        _pod_stats("bot-b", "u-b", 10, 20, "2026-12-06T19:00:30Z"),  # restarted: counters from zero
        _pod_stats("bot-new", "u-n", 7, 7, "2026-12-06T19:00:30Z")])}
    deltas = window.close()
    assert deltas.elapsed_s == 30.0
    by = {p.pod: p for p in deltas.pods}
    assert by["bot-a"].state is DeltaState.MEASURED and (by["bot-a"].rx_bytes, by["bot-a"].tx_bytes) == (40_000, 80_000)
    assert by["bot-a"].counter_span_s == 30.0  # the kubelet's own timestamps
    assert by["bot-b"].state is DeltaState.RESET and "went down" in by["bot-b"].note
    assert by["bot-gone"].state is DeltaState.DISAPPEARED
    assert by["bot-new"].state is DeltaState.APPEARED


def test_counters_the_kubelet_did_not_refresh_are_stale(kubelets) -> None:
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a")]
    state.summaries = {"node-a": _summary("node-a", [_pod_stats("bot-a", "u-a", 1_000, 2_000)])}
    window = NetworkWindow(kube, NS, SELECTOR)
    (delta,) = window.close().pods
    assert delta.state is DeltaState.STALE and "did not refresh" in delta.note


def test_forbidden_nodes_proxy_is_an_error_naming_the_node(kubelets) -> None:
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a")]
    state.summaries = {"node-a": (403, b'{"kind":"Status","reason":"Forbidden","code":403}')}
    with pytest.raises(KubernetesUnavailable) as info:
        read_pod_network(kube, NS, SELECTOR)
    assert "node node-a" in str(info.value) and "HTTP 403" in str(info.value) and "nodes/proxy" in str(info.value)


def test_malformed_summary_body_is_an_error_naming_the_node(kubelets) -> None:
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a")]
    state.summaries = {"node-a": (200, b"{'pods': [not json")}
    with pytest.raises(KubernetesUnavailable, match="node node-a: the kubelet's summary is not JSON"):
        read_pod_network(kube, NS, SELECTOR)


def test_unreachable_api_server_is_an_error() -> None:
    cfg = client.Configuration(host="http://127.0.0.1:9")
    cfg.retries = 0
    api = client.ApiClient(cfg)
    kube = KubeClients(api, client.CoreV1Api(api), client.AppsV1Api(api), client.NetworkingV1Api(api),
                       client.CustomObjectsApi(api), cfg.host, (1.0, 1.0))
    try:
        with pytest.raises(KubernetesUnavailable, match=r"127\.0\.0\.1:9"):
            read_pod_network(kube, NS, SELECTOR)
    finally:
        api.close()


def test_a_kubelet_that_does_not_answer_costs_the_read_timeout(kubelets) -> None:
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a")]
    state.summaries = {"node-a": 1.5}  # longer than the 1 s read timeout
    started = time.monotonic()
    with pytest.raises(KubernetesUnavailable, match="node node-a's kubelet summary"):
        read_pod_network(kube, NS, SELECTOR)
    assert time.monotonic() - started < 5  # bounded by the timeout, not by the kubelet


def test_the_client_without_raw_body_would_hand_back_a_python_repr(kubelets) -> None:
    """Why the probe reads the raw body: the proxy call is typed ``str``, so the client turns
    the decoded JSON into its Python repr (single quotes), which no JSON parser reads."""
    state, kube = kubelets
    state.pods = [_pod("bot-a", "u-a", "node-a")]
    state.summaries = {"node-a": _summary("node-a", [_pod_stats("bot-a", "u-a", 1, 2)])}
    text = kube.core.connect_get_node_proxy_with_path("node-a", "stats/summary", _request_timeout=kube.timeout)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert read_pod_network(kube, NS, SELECTOR).by_pod()["bot-a"].rx_bytes == 1
