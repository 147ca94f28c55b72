"""The sandbox kubelet: schedules pods onto the one node and runs them as processes.

Each pod with processes gets a :class:`PodWorker` (an asyncio task) that owns its
directory under ``state_dir/pods/`` (``root/`` is the pod's filesystem and exec cwd,
``logs/<container>.log`` its stdout+stderr), its port mapping and its containers.

Ports: every ``containerPort`` (and 8080 for the bot image) is mapped to a free
127.0.0.1 port. The mapping is published on the pod as the annotation
``sandbox.goldgate.io/ports`` = ``{"8080": 41234}`` (container port → host port) and
``status.podIP`` is 127.0.0.1; probes, Service proxies and Prometheus targets use it.

Graceful termination (a pod with deletionTimestamp): the Endpoints controller drops it
at once; the worker marks it not ready, runs each container's ``preStop`` hook (exec /
httpGet / sleep) — or, without one, waits the default drain period — then sends
SIGTERM, SIGKILL when ``deletionGracePeriodSeconds`` (terminationGracePeriodSeconds)
ran out, and finally removes the pod from the store.

Pods whose containers all use ``sandbox/pause`` have no process: the kubelet writes a
Running/Ready status directly (scale tests with thousands of pods).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pathlib
import shutil
from collections.abc import Coroutine
from typing import Any

from goldgate.sandbox.controllers.container import ContainerRunner
from goldgate.sandbox.controllers.context import ExecContext
from goldgate.sandbox.controllers.events import EventRecorder
from goldgate.sandbox.controllers.images import ImagePullError, resolve_image
from goldgate.sandbox.controllers.podutil import Obj, is_deleting, set_condition
from goldgate.sandbox.controllers.probes import run_command
from goldgate.sandbox.controllers.timing import Timing
from goldgate.sandbox.netaccount import NetAccount
from goldgate.sandbox.ports import free_port, is_free
from goldgate.sandbox.store import NotFound, Store, StoreError, now_rfc3339

log = logging.getLogger("goldgate.sandbox.kubelet")
NODE_NAME = "sandbox-node"
PORTS_ANNOTATION = "sandbox.goldgate.io/ports"
COMPONENT = "kubelet"
#: Seconds a pod stopped by Cluster.stop() gets between SIGTERM and SIGKILL.
STOP_GRACE_S = 3.0


def pod_ports(pod: Obj) -> dict[int, int]:
    """The container-port → host-port mapping the kubelet published on a pod."""
    raw = (pod.get("metadata", {}).get("annotations") or {}).get(PORTS_ANNOTATION)
    if not raw:
        return {}
    try:
        return {int(k): int(v) for k, v in json.loads(raw).items()}
    except (ValueError, AttributeError):
        return {}


def is_pause_pod(pod: Obj) -> bool:
    containers = pod.get("spec", {}).get("containers") or []
    if not containers:
        return False
    for c in containers:
        try:
            if resolve_image(c.get("image", "")).kind != "pause":
                return False
        except ImagePullError:
            return False
    return True


def qos_class(pod: Obj) -> str:
    requests_all, limits_all, guaranteed = False, False, True
    for c in pod.get("spec", {}).get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests_all |= bool(req)
        limits_all |= bool(lim)
        for r in ("cpu", "memory"):
            if r not in lim or req.get(r, lim[r]) != lim[r]:
                guaranteed = False
    if not requests_all and not limits_all:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


class PidRegistry:
    """``state_dir/pids/<pid>`` per live process, so ``sandbox down`` finds stragglers."""

    def __init__(self, state_dir: pathlib.Path) -> None:
        self.dir = state_dir / "pids"
        self.dir.mkdir(parents=True, exist_ok=True)

    def add(self, pid: int, pod: tuple[str, str], container: str) -> None:
        (self.dir / str(pid)).write_text(json.dumps(
            {"pid": pid, "pgid": pid, "namespace": pod[0], "pod": pod[1], "container": container}))

    def remove(self, pid: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.dir / str(pid)).unlink()

    def live(self) -> list[int]:
        return sorted(int(p.name) for p in self.dir.iterdir() if p.name.isdigit())


class PodWorker:
    def __init__(self, kubelet: Kubelet, pod: Obj) -> None:
        meta = pod["metadata"]
        self.kubelet = kubelet
        self.store = kubelet.store
        self.timing = kubelet.timing
        self.pod = pod
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace", "default")
        self.key = (self.namespace, self.name)
        self.uid: str = meta["uid"]
        self.dir = kubelet.state_dir / "pods" / f"{self.namespace}_{self.name}_{self.uid[:8]}"
        self.root = self.dir / "root"
        self.logs = self.dir / "logs"
        self.ports: dict[int, int] = {}
        #: The pod's cgroup v2 directory its processes start in (network accounting), if any.
        self.cgroup: pathlib.Path | None = None
        self.runners = [ContainerRunner(self, c) for c in pod.get("spec", {}).get("containers") or []]
        self.terminating = False
        self.terminated = asyncio.Event()
        self.done = asyncio.Event()
        self._conditions: list[Obj] = []
        self._publish_pending = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._start_time = now_rfc3339()

    # ---------------------------------------------------------------- plumbing
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("pod %s/%s: %s", self.namespace, self.name, task.exception(),
                      exc_info=task.exception())

    def event(self, etype: str, reason: str, message: str) -> None:
        self.kubelet.events.record(self.pod, "Pod", etype, reason, message, COMPONENT)

    def grace_seconds(self) -> float:
        return float(self.pod.get("spec", {}).get("terminationGracePeriodSeconds", 30))

    def exec_context(self, container: str | None) -> ExecContext:
        runner = self._runner(container)
        env = dict(runner.env) if runner else {}
        if not env:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
                   "HOSTNAME": self.name}
        return ExecContext(env=env, cwd=self.root)

    def _runner(self, container: str | None) -> ContainerRunner | None:
        if not self.runners:
            return None
        if container is None:
            return self.runners[0]
        return next((r for r in self.runners if r.name == container), None)

    def update(self, pod: Obj) -> None:
        self.pod = pod
        if is_deleting(pod) and not self.terminating:
            self.terminating = True
            self.spawn(self._terminate())

    # ---------------------------------------------------------------- run
    async def run(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        for runner in self.runners:
            for p in runner.spec.get("ports") or []:
                self.ports.setdefault(int(p["containerPort"]), free_port())
            try:
                if resolve_image(runner.image).kind == "bot":
                    self.ports.setdefault(8080, free_port())
            except ImagePullError:
                pass
            (self.logs / f"{runner.name}.log").touch()
        self._write(initial=True)
        await self._account()
        for runner in self.runners:
            self.spawn(runner.run())
        await self.done.wait()

    async def _terminate(self) -> None:
        grace = float(self.pod["metadata"].get("deletionGracePeriodSeconds",
                                               self.grace_seconds()))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        for runner in self.runners:
            runner.ready = False
        self.publish()
        if grace > 0:
            hooks = [self._pre_stop(r, grace) for r in self.runners
                     if (r.spec.get("lifecycle") or {}).get("preStop")]
            with contextlib.suppress(TimeoutError):
                if hooks:
                    await asyncio.wait_for(asyncio.gather(*hooks), grace)
                else:
                    await asyncio.sleep(min(self.timing.drain_s, grace))
        for runner in self.runners:
            if runner.proc is not None:
                self.event("Normal", "Killing", f"Stopping container {runner.name}")
        remaining = max(0.0, deadline - loop.time())
        await asyncio.gather(*(r.stop(remaining) for r in self.runners))
        await self._finish()
        try:
            current = self.store.find("pods", self.namespace, self.name)
            if current is not None and current["metadata"].get("uid") == self.uid:
                self.store.delete("pods", self.namespace, self.name)
        except NotFound:
            pass
        await self.remove_files()

    async def remove_files(self) -> None:
        """A deleted pod's filesystem and logs go with it, as on a real node."""
        await asyncio.to_thread(shutil.rmtree, self.dir, True)

    async def _pre_stop(self, runner: ContainerRunner, grace: float) -> None:
        hook = runner.spec["lifecycle"]["preStop"]
        if "sleep" in hook:
            await asyncio.sleep(float(hook["sleep"].get("seconds", 0)))
        elif "exec" in hook:
            command = [str(c) for c in hook["exec"].get("command") or []]
            with contextlib.suppress(TimeoutError, OSError):
                await run_command(command, self.exec_context(runner.name), grace)
        elif "httpGet" in hook:
            from goldgate.sandbox.controllers.probes import probe_once

            await probe_once({"httpGet": hook["httpGet"], "timeoutSeconds": grace},
                             runner.spec, self.ports.get, self.exec_context(runner.name))

    async def _finish(self) -> None:
        """Wait until every container process is gone, then end all tasks."""
        self.terminating = True
        self.terminated.set()
        for runner in self.runners:
            if runner.proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    await runner.proc.wait()
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current]
        for _ in range(50):
            pending = [t for t in pending if not t.done()]
            if not pending:
                break
            await asyncio.sleep(0.02)
        for task in pending:
            task.cancel()
        self.done.set()

    async def kill_now(self, grace: float = STOP_GRACE_S) -> None:
        """Stop every process at once (Cluster.stop, or the pod vanished from the store)."""
        self.terminating = True
        self.terminated.set()
        await asyncio.gather(*(r.stop(grace) for r in self.runners))
        await self._finish()

    # ---------------------------------------------------------------- status
    def publish(self) -> None:
        """Coalesce status writes: at most one per event-loop turn."""
        if self._publish_pending:
            return
        self._publish_pending = True
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._publish_pending = False
        self._write(initial=False)

    def status(self) -> Obj:
        now = now_rfc3339()
        statuses = [r.status() for r in self.runners]
        all_ready = bool(statuses) and all(s["ready"] for s in statuses) and not self.terminating
        policy = self.pod.get("spec", {}).get("restartPolicy", "Always")
        terminated = [s for s in statuses if "terminated" in s["state"]]
        if statuses and len(terminated) == len(statuses) and policy != "Always" \
                and not self.terminating:
            failed = any(s["state"]["terminated"].get("exitCode") for s in terminated)
            phase = "Failed" if failed else "Succeeded"
        elif any("running" in s["state"] or s["restartCount"] or s["lastState"]
                 for s in statuses):
            phase = "Running"
        else:
            phase = "Pending"
        ready = "True" if all_ready else "False"
        for ctype, value in (("PodReadyToStartContainers", "True"), ("Initialized", "True"),
                             ("Ready", ready), ("ContainersReady", ready), ("PodScheduled", "True")):
            cond: Obj = {"type": ctype, "status": value}
            if value == "False":
                waiting = [s["name"] for s in statuses if not s["ready"]]
                cond["reason"] = "ContainersNotReady" if not self.terminating else "PodCompleted"
                if waiting:
                    cond["message"] = f"containers with unready status: [{' '.join(waiting)}]"
            self._conditions = set_condition(self._conditions, cond, now)
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                 "PodScheduled"]
        conditions = sorted(self._conditions, key=lambda c: order.index(c["type"]))
        return {"phase": phase, "conditions": conditions, "hostIP": "127.0.0.1",
                "hostIPs": [{"ip": "127.0.0.1"}], "podIP": "127.0.0.1",
                "podIPs": [{"ip": "127.0.0.1"}], "startTime": self._start_time,
                "qosClass": qos_class(self.pod), "containerStatuses": statuses}

    def replace_taken_ports(self) -> None:
        """Give a new host port to each container port another process holds now.

        Only the sandbox needs this (all pods share 127.0.0.1): a container that exited
        because its port was taken would otherwise crash-loop on it. The annotation is
        rewritten, so Services and probes follow the new port.
        """
        taken = {k: v for k, v in self.ports.items() if not is_free(v)}
        if not taken:
            return
        for container_port in taken:
            self.ports[container_port] = free_port()
        self._write(initial=True)
        self.spawn(self._account())

    async def _account(self) -> None:
        """Count the pod's bytes from now on (its host ports, its cgroup's connections)."""
        account = self.kubelet.netaccount
        if account is None or not self.ports:
            return
        self.cgroup = self.cgroup or account.pod_cgroup(self.key)
        await asyncio.to_thread(account.set_pod, self.key, sorted(self.ports.values()))

    def _write(self, initial: bool) -> None:
        status = self.status()
        ports = json.dumps({str(k): v for k, v in sorted(self.ports.items())})

        def put(obj: Obj) -> None:
            obj["status"] = status
            if initial:
                obj["metadata"].setdefault("annotations", {})[PORTS_ANNOTATION] = ports

        try:
            current = self.store.find("pods", self.namespace, self.name)
            if current is None or current["metadata"].get("uid") != self.uid:
                return
            if initial:
                self.pod = self.store.mutate("pods", self.namespace, self.name, put)
            elif current.get("status") != status:
                self.pod = self.store.mutate("pods", self.namespace, self.name, put,
                                             status_only=True)
        except StoreError:
            pass


class Kubelet:
    def __init__(self, store: Store, events: EventRecorder, state_dir: pathlib.Path,
                 timing: Timing, netaccount: NetAccount | None = None) -> None:
        self.store = store
        #: Per-pod byte counting (None: off, e.g. without iptables).
        self.netaccount = netaccount
        self.events = events
        self.state_dir = state_dir
        self.timing = timing
        self.pids = PidRegistry(state_dir)
        self.workers: dict[str, PodWorker] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def worker(self, namespace: str, name: str) -> PodWorker | None:
        for w in self.workers.values():
            if w.key == (namespace, name):
                return w
        return None

    def reconcile(self, pods: list[Obj]) -> None:
        seen = set()
        for pod in pods:
            meta = pod["metadata"]
            uid = meta["uid"]
            seen.add(uid)
            spec = pod.get("spec", {})
            if not spec.get("nodeName"):
                if not is_deleting(pod):
                    self._schedule(pod)
                else:
                    self._delete(pod)
                continue
            if spec["nodeName"] != NODE_NAME:
                continue
            if is_pause_pod(pod):
                if is_deleting(pod):
                    self._delete(pod)
                elif (pod.get("status") or {}).get("phase") != "Running":
                    self._pause_status(pod)
                continue
            worker = self.workers.get(uid)
            if worker is None:
                if is_deleting(pod) or (pod.get("status") or {}).get("phase") in (
                        "Succeeded", "Failed"):
                    if is_deleting(pod):
                        self._delete(pod)
                    continue
                worker = PodWorker(self, pod)
                self.workers[uid] = worker
                self._spawn(self._run_worker(worker))
            worker.update(pod)
        for uid, worker in list(self.workers.items()):
            if uid not in seen and not worker.terminated.is_set():
                self._spawn(self._forget(worker))

    async def _forget(self, worker: PodWorker) -> None:
        """The pod was removed from the store without a graceful deletion (force)."""
        await worker.kill_now(grace=0)
        await worker.remove_files()

    async def _run_worker(self, worker: PodWorker) -> None:
        try:
            await worker.run()
        finally:
            self.workers.pop(worker.uid, None)
            if self.netaccount is not None:
                await asyncio.to_thread(self.netaccount.remove_pod, worker.key)

    def _delete(self, pod: Obj) -> None:
        with contextlib.suppress(NotFound):
            self.store.delete("pods", pod["metadata"].get("namespace"), pod["metadata"]["name"])

    def _schedule(self, pod: Obj) -> None:
        meta = pod["metadata"]
        pause = is_pause_pod(pod)

        def put(obj: Obj) -> None:
            obj["spec"]["nodeName"] = NODE_NAME
            now = now_rfc3339()
            status = obj.setdefault("status", {})
            status["phase"] = "Pending"
            status["conditions"] = [{"type": "PodScheduled", "status": "True",
                                     "lastTransitionTime": now}]
            status["qosClass"] = qos_class(obj)
            if pause:
                obj["status"] = _pause_status(obj)

        try:
            updated = self.store.mutate("pods", meta.get("namespace"), meta["name"], put)
        except NotFound:
            return
        self.events.record(updated, "Pod", "Normal", "Scheduled",
                           f"Successfully assigned {meta.get('namespace')}/{meta['name']} "
                           f"to {NODE_NAME}", "default-scheduler")

    def _pause_status(self, pod: Obj) -> None:
        def put(obj: Obj) -> None:
            obj["status"] = _pause_status(obj)

        with contextlib.suppress(NotFound):
            self.store.mutate("pods", pod["metadata"].get("namespace"), pod["metadata"]["name"],
                              put, status_only=True)

    async def stop(self) -> None:
        workers = list(self.workers.values())
        await asyncio.gather(*(w.kill_now() for w in workers), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _pause_status(pod: Obj) -> Obj:
    now = now_rfc3339()
    conditions = [{"type": t, "status": "True", "lastTransitionTime": now}
                  for t in ("PodReadyToStartContainers", "Initialized", "Ready",
                            "ContainersReady", "PodScheduled")]
    statuses = []
    for c in pod.get("spec", {}).get("containers") or []:
        image = resolve_image(c.get("image", ""))
        statuses.append({"name": c.get("name", ""), "image": c.get("image", ""),
                         "imageID": image.image_id, "containerID": f"sandbox://pause-{c.get('name')}",
                         "ready": True, "started": True, "restartCount": 0,
                         "state": {"running": {"startedAt": now}}, "lastState": {}})
    return {"phase": "Running", "conditions": conditions, "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}], "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": now, "qosClass": qos_class(pod), "containerStatuses": statuses}
