"""Per-pod network I/O: netfilter counts each pod's bytes, the kubelet Summary API serves them.

The parser is checked on output captured from a real ``iptables -L -v -n -x``; the rest
runs real pod processes in an in-process cluster and needs root and iptables (skipped
otherwise, as the sandbox itself then runs without accounting).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from goldgate.sandbox import netaccount, satoken
from goldgate.sandbox.apiserver import summary
from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.controllers.kubelet import NODE_NAME, pod_ports
from tests.sandbox.conftest import ApiHarness, make_pod
from tests.sandbox.test_controllers_harness import (
    NS,
    ClusterHarness,
    deployment,
    is_ready,
    run_scenario,
    service,
    standin_container,
)

IPTABLES = shutil.which("iptables")
needs_iptables = pytest.mark.skipif(
    IPTABLES is None or os.geteuid() != 0, reason="per-pod network accounting needs root and iptables")

#: Captured from ``iptables -w 5 -L GGNET-29970 -v -n -x`` after one HTTP GET from client-1 to web-1
#: (the header line's trailing blanks trimmed).
CAPTURED = """\
Chain GGNET-29970 (2 references)
    pkts      bytes target     prot opt in     out     source               destination
       1       60 CONNMARK   0    --  *      lo      0.0.0.0/0            0.0.0.0/0            cgroup goldgate-netio/GGNET-29970/trading_client-1 ctstate NEW /* trading/client-1 mark */ CONNMARK xset 0x95ee/0xffff
       0        0 CONNMARK   6    --  lo     *       0.0.0.0/0            0.0.0.0/0            tcp dpt:38382 ctstate NEW /* trading/client-1 mark */ CONNMARK xset 0x95ee0000/0xffff0000
       1       60 CONNMARK   6    --  lo     *       0.0.0.0/0            0.0.0.0/0            tcp dpt:38381 ctstate NEW /* trading/web-1 mark */ CONNMARK xset 0x95ed0000/0xffff0000
       6      439            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ed0000/0xffff0000 ctdir ORIGINAL /* trading/web-1 served-rx */
       6     1516            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ed0000/0xffff0000 ctdir REPLY /* trading/web-1 served-tx */
       0        0            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ed/0xffff ctdir ORIGINAL /* trading/web-1 client-tx */
       0        0            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ed/0xffff ctdir REPLY /* trading/web-1 client-rx */
       0        0            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ee0000/0xffff0000 ctdir ORIGINAL /* trading/client-1 served-rx */
       0        0            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ee0000/0xffff0000 ctdir REPLY /* trading/client-1 served-tx */
       6      439            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ee/0xffff ctdir ORIGINAL /* trading/client-1 client-tx */
       6     1516            0    --  lo     *       0.0.0.0/0            0.0.0.0/0            connmark match  0x95ee/0xffff ctdir REPLY /* trading/client-1 client-rx */
"""


def test_counter_parser_reads_captured_iptables_output() -> None:
    counted = netaccount.parse_counters(CAPTURED)
    # web-1 served the request (rx the request, tx the answer); client-1 made it.
    assert counted == {("trading", "web-1"): (439, 1516), ("trading", "client-1"): (1516, 439)}
    assert netaccount.parse_counters("") == {}
    assert netaccount.parse_counters("Chain X (0 references)\n garbage /* no-slash served-rx */") == {}


STATS_READER = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: stats-reader}
rules: [{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: stats-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: stats-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: trading}]
"""


def test_summary_through_kubectl_get_raw_and_rbac(api: ApiHarness) -> None:
    """``kubectl get --raw`` reads the Summary; an account needs ``get nodes/proxy``."""
    from tests.sandbox.test_rbac import as_account, token_of

    api.create("nodes", {"metadata": {"name": "sandbox"}})
    for name in ("web-1", "job-1"):
        api.create("pods", make_pod(name))
        api.cluster.log_file("trading", name, "app")
    api.cluster.network[("trading", "web-1")] = {"rxBytes": 1200, "txBytes": 34000}
    proc = api.kubectl("get", "--raw", "/api/v1/nodes/sandbox/proxy/stats/summary", check=True)
    doc = json.loads(proc.stdout)
    assert doc["node"]["nodeName"] == "sandbox"
    pods = {p["podRef"]["name"]: p for p in doc["pods"]}
    assert set(pods) == {"web-1", "job-1"}
    net = pods["web-1"]["network"]
    assert (net["name"], net["rxBytes"], net["txBytes"]) == ("lo", 1200, 34000)
    assert net["interfaces"] == [{"name": "lo", "rxBytes": 1200, "txBytes": 34000}]
    assert "network" not in pods["job-1"]  # not accounted: no key, as for a hostNetwork pod
    assert api.kubectl("get", "--raw", "/api/v1/nodes/nowhere/proxy/stats/summary").returncode != 0

    api.server.ctx.sa_key = satoken.signing_key(api.tmp / "keys")
    api.kubectl("create", "serviceaccount", "reader", "-n", "trading", check=True)
    token = token_of(api, "reader")
    refused = as_account(api, token, "get", "--raw", "/api/v1/nodes/sandbox/proxy/stats/summary")
    assert refused.returncode != 0 and "nodes/proxy" in refused.stderr
    api.kubectl("apply", "-f", "-", check=True, stdin=STATS_READER)
    allowed = as_account(api, token, "get", "--raw", "/api/v1/nodes/sandbox/proxy/stats/summary")
    assert allowed.returncode == 0, allowed.stderr


# ------------------------------------------------------------------ real pods, real counters


def _summary(h: ClusterHarness) -> dict[str, Any]:
    doc = summary._summary(ServerContext(h.store, cluster=h.cluster), NODE_NAME)
    return {p["podRef"]["name"]: p for p in doc["pods"]}


def _chain_rules(chain: str) -> str:
    proc = subprocess.run([IPTABLES or "iptables", "-w", "5", "-S"], capture_output=True, text=True, timeout=10)
    return "\n".join(line for line in proc.stdout.splitlines() if chain in line)


class _Payload(http.server.BaseHTTPRequestHandler):
    body = b"m" * 50_000

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def market_data() -> Iterator[str]:
    """A local server standing for the market data a pod fetches (50 kB per GET)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Payload)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


FETCHER = ("import os,time,urllib.request\n"
           "for _ in range(4): urllib.request.urlopen(os.environ['URL']).read()\n"
           "time.sleep(60)\n")


@needs_iptables
def test_served_and_outbound_bytes_reach_the_summary_and_rules_follow_the_pods(
        tmp_path: pathlib.Path, market_data: str) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            chain = h.cluster.netaccount.chain
            h.create("deployments", deployment("web", replicas=1, image="sandbox/exec",
                                               container=standin_container()))
            h.create("services", service("web"))
            h.create("deployments", deployment(
                "fetcher", replicas=1, image="sandbox/exec",
                container={"command": ["python", "-c", FETCHER], "env": [{"name": "URL", "value": market_data}],
                           "ports": [{"name": "http", "containerPort": 9000}]}))
            await h.wait_for(lambda: any(is_ready(p) for p in h.pods("app=web")), what="web ready")
            url = await h.wait_for(lambda: h.cluster.service_url(NS, "web"), what="service")
            web = h.pods("app=web")[0]["metadata"]["name"]
            before = _summary(h)[web]["network"]
            sent = received = 0
            for i in range(20):
                resp = await asyncio.to_thread(requests.get, url + f"?q={i:04d}" + "p" * 500, timeout=5)
                assert resp.status_code == 200
                sent += len(resp.request.path_url)  # the request's path alone
                received += len(resp.content)
            after = _summary(h)[web]["network"]
            assert after["rxBytes"] - before["rxBytes"] >= sent
            assert after["txBytes"] - before["txBytes"] >= received
            direct = h.cluster.pod_network(NS, web)  # the tests' way in, without the API
            assert direct is not None and direct["rxBytes"] >= after["rxBytes"]

            # The fetcher's own outbound requests (step B: its cgroup marks its connections).
            fetcher = h.pods("app=fetcher")[0]["metadata"]["name"]
            await h.wait_for(lambda: (_summary(h)[fetcher].get("network") or {}).get("rxBytes", 0) >= 4 * 50_000,
                             timeout=15, what="the fetcher's 4 x 50 kB counted as received")
            assert _summary(h)[fetcher]["network"]["txBytes"] > 4 * 40  # its 4 request lines

            assert f"{NS}/{web} served-rx" in _chain_rules(chain)
            h.store.delete("deployments", NS, "web")
            for p in h.pods("app=web"):
                h.store.delete("pods", NS, p["metadata"]["name"])
            await h.wait_for(lambda: f"{NS}/{web} " not in _chain_rules(chain), timeout=20,
                             what="the deleted pod's rules removed")
            assert "network" not in _summary(h).get(web, {})
        assert _chain_rules(chain) == ""  # stop removed the chain and its jumps
        assert not (netaccount.cgroup2_root() / netaccount.CGROUP_DIR / chain).exists()  # type: ignore[operator]

    run_scenario(scenario(), 60)


BOT = "trading-bot:v1.2.0"


@needs_iptables
def test_response_padding_raises_transmitted_bytes_per_request(tmp_path: pathlib.Path) -> None:
    """FAULT_RESPONSE_PADDING_BYTES shows as about that many more bytes sent per /api/ request."""
    padding, requests_n = 20_000, 10

    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            for name, env in (("plain", []), ("padded", [{"name": "FAULT_RESPONSE_PADDING_BYTES",
                                                          "value": str(padding)}])):
                h.create("deployments", deployment(name, replicas=1, image=BOT, container={
                    "env": [{"name": "BOT_SIGNAL_BASE_MS", "value": "0"}, *env],
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}}))
            await h.wait_for(lambda: sum(is_ready(p) for p in h.pods()) == 2, timeout=40, what="both bots ready")
            tx_per_request = {}
            for name in ("plain", "padded"):
                pod = h.pods(f"app={name}")[0]
                port = pod_ports(pod)[8080]
                before = _summary(h)[pod["metadata"]["name"]]["network"]["txBytes"]
                for _ in range(requests_n):
                    resp = await asyncio.to_thread(
                        requests.get, f"http://127.0.0.1:{port}/api/v1/signal?symbol=XAUUSD", timeout=5)
                    assert resp.status_code == 200
                    assert ("padding" in resp.json()) == (name == "padded")
                after = _summary(h)[pod["metadata"]["name"]]["network"]["txBytes"]
                tx_per_request[name] = (after - before) / requests_n
            extra = tx_per_request["padded"] - tx_per_request["plain"]
            logging.getLogger(__name__).info("bytes sent per /api/ request: %s", tx_per_request)
            assert padding * 0.95 <= extra <= padding * 1.2, tx_per_request

    run_scenario(scenario(), 90)


def test_the_padding_reaches_pods_by_named_fault_and_faulty_build() -> None:
    from goldgate.sandbox.controllers.faults import FAULTS
    from goldgate.sandbox.controllers.images import bot_build_env

    assert bot_build_env("v1.3.0-chatty")["FAULT_RESPONSE_PADDING_BYTES"] == "20000"
    assert "FAULT_RESPONSE_PADDING_BYTES=20000" in FAULTS["network-io"].description


@needs_iptables
def test_a_dead_sandboxs_chain_is_swept() -> None:
    iptables = IPTABLES or "iptables"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    chain = f"{netaccount.CHAIN_PREFIX}{gone.pid}"
    subprocess.run([iptables, "-w", "5", "-N", chain], check=True, timeout=10)
    subprocess.run([iptables, "-w", "5", "-I", "INPUT", "-i", "lo", "-j", chain], check=True, timeout=10)
    live = f"{netaccount.CHAIN_PREFIX}{os.getpid()}-99"
    subprocess.run([iptables, "-w", "5", "-N", live], check=True, timeout=10)
    root = netaccount.cgroup2_root()
    leftover = root / netaccount.CGROUP_DIR / chain / "trading_web-1" if root else None
    if leftover is not None:
        leftover.mkdir(parents=True)
    try:
        removed = netaccount.sweep_stale(iptables)
        assert chain in removed and live not in removed
        assert _chain_rules(chain) == ""
        assert _chain_rules(live) != ""  # a running sandbox's chain stays
        assert leftover is None or not leftover.parent.exists()
    finally:
        subprocess.run([iptables, "-w", "5", "-X", live], timeout=10, check=False)


def test_without_iptables_accounting_is_off_and_the_cluster_runs(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(pathlib.Path(sys.executable).parent))
    caplog.set_level(logging.INFO, logger="goldgate.sandbox.netaccount")

    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            assert h.cluster.netaccount is None
            h.create("deployments", deployment("web", replicas=1, image="sandbox/exec",
                                               container=standin_container()))
            await h.wait_for(lambda: any(is_ready(p) for p in h.pods("app=web")), what="web ready")
            pods = _summary(h)
            assert pods and all("network" not in p for p in pods.values())

    run_scenario(scenario(), 40)
    off = [r.getMessage() for r in caplog.records if "accounting is off" in r.getMessage()]
    assert off == ["per-pod network accounting is off: iptables is not on PATH"]
