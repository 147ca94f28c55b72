"""Endpoints and Service proxies: Ready-only round robin, status, draining, file-SD."""

from __future__ import annotations

import asyncio
import collections
import json
import pathlib
import socket
import urllib.request
from functools import partial

import pytest

from tests.sandbox.test_controllers_harness import (
    NS,
    ClusterHarness,
    deployment,
    fast_timing,
    is_ready,
    run_scenario,
    service,
    standin_container,
)

pytestmark = pytest.mark.sandbox

#: Stand-in whose /slow answers after 1.5 s: an in-flight request during termination.
SLOW_STANDIN = (
    "import http.server,os,signal,sys,time\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        if self.path=='/slow': time.sleep(1.5)\n"
    "        body=os.environ.get('HOSTNAME','').encode()\n"
    "        self.send_response(200);self.send_header('Content-Length',str(len(body)))\n"
    "        self.end_headers();self.wfile.write(body)\n"
    "    def log_message(self,*a): pass\n"
    "s=http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H)\n"
    "s.daemon_threads=False\n"
    "def stop(*a):\n"
    "    import threading; threading.Thread(target=s.shutdown).start()\n"
    "signal.signal(signal.SIGTERM, stop)\n"
    "s.serve_forever(); s.server_close()\n"
)


_fast_sandbox = fast_timing(drain_s=0.5)


run = partial(run_scenario, timeout_s=90)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback http only
        return r.read().decode()


def proxy_port(h: ClusterHarness, name: str = "web") -> int | None:
    svc = h.store.find("services", NS, name) or {}
    ingress = (svc.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    return ingress[0]["ports"][0]["port"] if ingress else None


def test_service_proxy_round_robins_over_ready_pods(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=3, image="sandbox/exec",
                                               container=standin_container()))
            h.create("services", service())
            await h.wait_for(h.rollout_complete, what="3 ready stand-ins")
            port = await h.wait_for(lambda: proxy_port(h))
            svc = h.store.get("services", NS, "web")
            assert svc["status"]["loadBalancer"]["ingress"] == [
                {"ip": "127.0.0.1", "ports": [{"port": port, "protocol": "TCP"}]}]
            assert "status" not in svc["spec"] and svc["spec"]["ports"][0]["port"] == 80
            await h.wait_for(lambda: len(h.cluster.services.proxies[(NS, "web")][0][1].backends) == 3)
            answers = [await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(9)]
            counts = collections.Counter(answers)
            assert set(counts) == {p["metadata"]["name"] for p in h.pods("app=web")}
            assert set(counts.values()) == {3}, counts
            ep = h.store.get("endpoints", NS, "web")
            [subset] = ep["subsets"]
            assert len(subset["addresses"]) == 3 and "notReadyAddresses" not in subset
            assert subset["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]
            assert {a["targetRef"]["name"] for a in subset["addresses"]} == set(counts)
    run(scenario())


def test_only_ready_pods_receive_traffic(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            gated = standin_container(readinessProbe={
                "exec": {"command": ["test", "-f", "ready"]}, "periodSeconds": 1})
            h.create("deployments", deployment(replicas=3, image="sandbox/exec", container=gated))
            h.create("services", service())
            def not_ready() -> int:
                ep = h.store.find("endpoints", NS, "web") or {}
                return len((ep.get("subsets") or [{}])[0].get("notReadyAddresses", []))

            await h.wait_for(lambda: not_ready() == 3, what="3 not ready")
            port = await h.wait_for(lambda: proxy_port(h))
            with pytest.raises(OSError):  # no Ready endpoint: the proxy closes the connection
                await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/")
            chosen = h.pods("app=web")[0]["metadata"]["name"]
            ctx = h.cluster.pod_exec_context(NS, chosen, None)
            assert ctx is not None
            host = json.loads(h.store.get("pods", NS, chosen)["metadata"]["annotations"][
                "sandbox.goldgate.io/ports"])["8080"]

            async def listening() -> bool:
                try:
                    _r, w = await asyncio.open_connection("127.0.0.1", host)
                except OSError:
                    return False
                w.close()
                return True

            while not await listening():  # the probe checks a file, not the server
                await asyncio.sleep(0.05)
            (ctx.cwd / "ready").write_text("")
            await h.wait_for(lambda: any(is_ready(p) for p in h.pods("app=web")))
            await h.wait_for(lambda: len(h.cluster.services.proxies[(NS, "web")][0][1].backends) == 1)
            answers = {await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(5)}
            assert answers == {chosen}
            subset = h.store.get("endpoints", NS, "web")["subsets"][0]
            assert [a["targetRef"]["name"] for a in subset["addresses"]] == [chosen]
            assert len(subset["notReadyAddresses"]) == 2
    run(scenario())


def test_terminating_pod_leaves_endpoints_at_once_and_finishes_in_flight_requests(
        tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            c = standin_container(command=["python", "-c", SLOW_STANDIN])
            h.create("deployments", deployment(replicas=2, image="sandbox/exec", container=c))
            h.create("services", service())
            await h.wait_for(h.rollout_complete)
            port = await h.wait_for(lambda: proxy_port(h))
            await h.wait_for(lambda: len(h.cluster.services.proxies[(NS, "web")][0][1].backends) == 2)
            # a slow request is in flight on one pod when that pod is deleted
            slow = asyncio.create_task(asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/slow"))
            proxy = h.cluster.services.proxies[(NS, "web")][0][1]
            [victim] = await h.wait_for(proxy.active_backends, what="the slow request relayed")
            h.store.mark_deleting("pods", NS, victim, 10)
            await asyncio.sleep(0.05)
            ep = h.store.get("endpoints", NS, "web")["subsets"][0]
            assert victim not in {a["targetRef"]["name"] for a in ep.get("addresses", [])}
            assert victim not in {a["targetRef"]["name"] for a in ep.get("notReadyAddresses", [])}
            others = {await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/") for _ in range(4)}
            assert victim not in others
            assert await slow == victim, "the in-flight request must complete on the draining pod"
            await h.wait_for(lambda: h.store.find("pods", NS, victim) is None, timeout=15)
    run(scenario())


def test_service_without_endpoints_refuses_and_recovers(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("services", service())
            port = await h.wait_for(lambda: proxy_port(h))
            ep = h.store.get("endpoints", NS, "web")
            assert "subsets" not in ep
            def talk() -> bytes:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    try:
                        return s.recv(10)
                    except ConnectionResetError:
                        return b""

            assert await asyncio.to_thread(talk) == b"", "no endpoint: the connection is closed"
            h.store.delete("services", NS, "web")
            await h.wait_for(lambda: h.store.find("endpoints", NS, "web") is None)
    run(scenario())


def test_prometheus_file_sd_lists_running_pods(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        async with ClusterHarness(tmp_path) as h:
            h.create("deployments", deployment(replicas=2, image="sandbox/exec",
                                               container=standin_container()))
            await h.wait_for(h.rollout_complete)
            path = tmp_path / "state" / "prometheus" / "targets.json"
            targets = await h.wait_for(lambda: path.exists() and len(json.loads(path.read_text())) == 2
                                       and json.loads(path.read_text()))
            pods = {p["metadata"]["name"]: p for p in h.pods("app=web")}
            for t in targets:
                pod = pods[t["labels"]["pod"]]
                host = json.loads(pod["metadata"]["annotations"]["sandbox.goldgate.io/ports"])["8080"]
                assert t["targets"] == [f"127.0.0.1:{host}"]
                assert t["labels"]["namespace"] == NS and t["labels"]["app"] == "web"
                assert t["labels"]["version"] == "latest"
                assert t["labels"]["pod_template_hash"] == pod["metadata"]["labels"]["pod-template-hash"]
    run(scenario())


# --------------------------------------------------------------------------- proxy unit tests
async def _backend(behaviour: str) -> tuple[asyncio.Server, int]:
    """A tiny HTTP/1.1 backend: "ok" answers keep-alive 200s then closes when idle;
    "drop" reads a request and closes without answering (a pod hit by SIGTERM)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if behaviour == "drop":
                    break
                body = behaviour.encode()
                close = b"connection: close" in head.lower()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (
                    len(body), b"Connection: close\r\n" if close else b"", body))
                await writer.drain()
                if close:
                    break
                # close the idle keep-alive connection shortly after answering
                await asyncio.wait_for(reader.read(0), 0.01)
                break
        except (asyncio.IncompleteReadError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   method: str = "GET") -> bytes:
    writer.write(f"{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    return await reader.readexactly(length)


def test_proxy_replays_an_idempotent_request_dropped_by_a_terminating_pod() -> None:
    from goldgate.sandbox.controllers.proxy import ServiceProxy

    async def scenario() -> None:
        drop, drop_port = await _backend("drop")
        ok, ok_port = await _backend("a")
        proxy = ServiceProxy("t")
        port = await proxy.start()
        proxy.set_backends([("ok", ok_port), ("drop", drop_port)])
        try:
            for _ in range(4):  # round robin hits the dropping backend too
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert await _request(reader, writer) == b"a"
                writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            proxy._next = 0  # next pick is "drop": a POST is not replayed
            with pytest.raises(asyncio.IncompleteReadError):
                await _request(reader, writer, "POST")
            writer.close()
        finally:
            await proxy.close()
            drop.close()
            ok.close()

    run(scenario())


def test_proxy_keeps_a_keep_alive_client_when_the_pod_closes_idle_connections() -> None:
    from goldgate.sandbox.controllers.proxy import ServiceProxy

    async def scenario() -> None:
        a, a_port = await _backend("a")
        b, b_port = await _backend("b")
        proxy = ServiceProxy("t")
        port = await proxy.start()
        proxy.set_backends([("a", a_port), ("b", b_port)])
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            answers = []
            for _ in range(4):  # each backend closes after one answer; the client never notices
                answers.append(await _request(reader, writer))
                await asyncio.sleep(0.05)
            assert set(answers) <= {b"a", b"b"} and len(answers) == 4
            writer.close()
        finally:
            await proxy.close()
            a.close()
            b.close()

    run(scenario())
