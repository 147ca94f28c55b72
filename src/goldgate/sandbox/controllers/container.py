"""One container of a pod: a local process, restarted and probed like the kubelet does.

Lifecycle per attempt: pull (look the image up in the catalog) → configure (env) →
start (a process in its own session, stdout+stderr to the container log) → run probes
and the memory watchdog → exit → decide by restartPolicy, with CrashLoopBackOff
back-off (first restart immediate, then base × 2ⁿ up to the cap, see ``timing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

import psutil

from goldgate.sandbox.controllers import proctree, volumes
from goldgate.sandbox.controllers.cpuwindow import CpuWindow
from goldgate.sandbox.controllers.envresolve import EnvError, resolve_env
from goldgate.sandbox.controllers.images import (
    ImagePullError,
    ImageSpec,
    registry_path,
    resolve_image,
)
from goldgate.sandbox.controllers.probes import probe_once
from goldgate.sandbox.controllers.quantity import parse_quantity
from goldgate.sandbox.market.process import MARKET_URL_ENV
from goldgate.sandbox.netaccount import join_cgroup
from goldgate.sandbox.oci_registry import pull_digest
from goldgate.sandbox.store import now_rfc3339

if TYPE_CHECKING:
    from goldgate.sandbox.controllers.kubelet import PodWorker

#: How often resident memory and CPU are sampled (seconds; not time-scaled: it is
#: how quickly an OOM kill follows the breach, not a Kubernetes setting).
SAMPLE_S = 1.0
#: Variables a container process inherits from the sandbox host, nothing else.
_HOST_VARS = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _rss_and_cpu(proc: psutil.Process, cache: dict[int, psutil.Process]) -> tuple[int, float]:
    """Resident memory (bytes) and CPU (cores) of a process and its children."""
    rss, cpu = 0, 0.0
    try:
        pids = proctree.members(proc.pid)
    except psutil.Error:
        return 0, 0.0
    for pid in pids:
        try:
            known = cache.get(pid)
            if known is None:
                known = cache[pid] = psutil.Process(pid)
            rss += known.memory_info().rss
            cpu += known.cpu_percent(None) / 100.0
        except psutil.Error:
            cache.pop(pid, None)
    return rss, cpu


class ContainerRunner:
    def __init__(self, worker: PodWorker, spec: dict[str, Any]) -> None:
        self.worker = worker
        self.spec = spec
        self.name: str = spec.get("name", "")
        self.image: str = spec.get("image", "")
        self.image_id = ""
        self.container_id = ""
        self.state: dict[str, Any] = {"waiting": {"reason": "ContainerCreating"}}
        self.last_state: dict[str, Any] = {}
        self.restart_count = 0
        self.ready = False
        self.started = False
        self.env: dict[str, str] = {}
        self.mounts: dict[str, str] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self.usage: tuple[float, int] = (0.0, 0)
        self._kill_reason: str | None = None
        self._started_event = asyncio.Event()
        self._side_tasks: list[asyncio.Task[None]] = []
        limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory")
        self.memory_limit = parse_quantity(limit) if limit else None

    # ---------------------------------------------------------------- helpers
    @property
    def log_path(self) -> os.PathLike[str]:
        return self.worker.logs / f"{self.name}.log"

    def _event(self, etype: str, reason: str, message: str) -> None:
        self.worker.event(etype, reason, message)

    def _set(self, state: dict[str, Any]) -> None:
        self.state = state
        self.worker.publish()

    async def _sleep_unless_terminating(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.worker.terminated.wait(), seconds)

    def _process_env(self, image: ImageSpec, container_env: dict[str, str]) -> dict[str, str]:
        env = {k: os.environ[k] for k in _HOST_VARS if k in os.environ}
        env.update({"HOSTNAME": self.worker.name, "HOME": str(self.worker.root),
                    "PYTHONUNBUFFERED": "1"})
        env.update(image.env)
        env.update({k: volumes.rewrite(v, self.mounts) for k, v in container_env.items()})
        if image.kind == "bot":
            env.update({"BOT_HOST": "127.0.0.1", "BOT_PORT": str(self.worker.ports[8080]),
                        "BOT_DATA_DIR": str(self.worker.root / "data")})
            # The sandbox's market feed, unless the pod names another (as a real cluster's
            # market-data service would be injected).
            feed = os.environ.get(MARKET_URL_ENV, "").strip()
            if feed and not env.get("MARKET_FEED_URL"):
                env["MARKET_FEED_URL"] = feed
            # The sandbox's flag server and its client token, as a cluster's Secret would give them.
            flags_url = os.environ.get("GOLDGATE_UNLEASH_URL", "").strip()
            if flags_url and not env.get("UNLEASH_URL"):
                env["UNLEASH_URL"] = flags_url + "/api"
                env["UNLEASH_API_TOKEN"] = os.environ.get("GOLDGATE_UNLEASH_CLIENT_TOKEN", "")
        else:
            for cport, hport in self.worker.ports.items():
                env[f"SANDBOX_PORT_{cport}"] = str(hport)
            first = next((int(p["containerPort"]) for p in self.spec.get("ports") or []), None)
            if first is not None:
                env["PORT"] = str(self.worker.ports[first])
        return env

    def _command(self, image: ImageSpec) -> list[str]:
        if image.kind == "bot":
            from goldgate.sandbox.controllers.images import BOT_COMMAND
            return list(BOT_COMMAND)
        command = [volumes.rewrite(str(c), self.mounts)
                   for c in (self.spec.get("command") or []) + (self.spec.get("args") or [])]
        if image.kind == "goldgate":
            from goldgate.sandbox.controllers.images import GOLDGATE_COMMAND
            return [*GOLDGATE_COMMAND, *command]
        if command and command[0] in ("python", "python3"):
            command[0] = sys.executable
        return command

    async def _pulled_id(self, image: ImageSpec) -> str:
        """The digest the sandbox registry served for a bot image (the node's catalog id otherwise)."""
        if image.kind != "bot":
            return image.image_id
        digest = await asyncio.to_thread(pull_digest, registry_path(image.repository), image.tag)
        return f"{image.repository}@{digest}" if digest else image.image_id

    # ---------------------------------------------------------------- main loop
    async def run(self) -> None:
        pull_failures = 0
        crashes = 0
        while not self.worker.terminating:
            try:
                image = resolve_image(self.image)
            except ImagePullError as exc:
                pull_failures += 1
                self._event("Warning", "Failed", f'Failed to pull image "{self.image}": {exc}')
                self._event("Warning", "Failed", "Error: ErrImagePull")
                self._set({"waiting": {"reason": "ErrImagePull", "message": str(exc)}})
                await self._sleep_unless_terminating(max(1.0, self.worker.timing.backoff(1) / 4))
                if self.worker.terminating:
                    break
                self._event("Normal", "BackOff", f'Back-off pulling image "{self.image}"')
                self._set({"waiting": {"reason": "ImagePullBackOff",
                                       "message": f'Back-off pulling image "{self.image}": {exc}'}})
                await self._sleep_unless_terminating(self.worker.timing.backoff(pull_failures))
                continue
            self.image_id = await self._pulled_id(image)
            try:
                container_env = resolve_env(self.worker.store, self.worker.pod, self.spec)
                self.mounts, mount_env = volumes.prepare(self.worker.store, self.worker.pod, self.spec,
                                                         self.worker.dir, self.worker.kubelet.state_dir)
                container_env = {**mount_env, **container_env}
            except (EnvError, OSError) as exc:
                self._event("Warning", "Failed", f"Error: {exc}")
                self._set({"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}})
                await self._sleep_unless_terminating(2.0)
                continue
            if crashes:
                self.worker.replace_taken_ports()  # an exit on "address already in use" must not loop
            self.env = self._process_env(image, container_env)
            self._event("Normal", "Pulled",
                        f'Container image "{self.image}" already present on machine')
            started_at = time.monotonic()
            exit_code, _reason, _message = await self._run_once(image)
            if self.worker.terminating:
                break
            policy = self.worker.pod.get("spec", {}).get("restartPolicy", "Always")
            if policy == "Never" or (policy == "OnFailure" and exit_code == 0):
                self.state = {"terminated": self.last_state.get("terminated", {})}
                self.last_state = {}
                self.worker.publish()
                await self.worker.terminated.wait()
                break
            if time.monotonic() - started_at > 2 * self.worker.timing.backoff_cap_s:
                crashes = 0  # ran long enough: the kubelet forgets the back-off too
            crashes += 1
            delay = self.worker.timing.backoff(crashes - 1)
            if delay > 0:
                pod = self.worker.pod["metadata"]
                who = f"{pod['name']}_{pod.get('namespace')}({pod.get('uid')})"
                self._event("Warning", "BackOff",
                            f"Back-off restarting failed container {self.name} in pod {who}")
                self._set({"waiting": {"reason": "CrashLoopBackOff", "message":
                                       f"back-off {_duration(delay)} restarting failed "
                                       f"container={self.name} pod={who}"}})
                await self._sleep_unless_terminating(delay)
            if not self.worker.terminating:
                self.restart_count += 1
        self.ready = False
        self.started = False

    async def _run_once(self, image: ImageSpec) -> tuple[int, str, str]:
        """Start, supervise and reap one process; returns (exitCode, reason, message)."""
        self.container_id = "sandbox://" + uuid.uuid4().hex
        self._kill_reason = None
        self._started_event = asyncio.Event()
        log = self.worker.logs / f"{self.name}.log"
        if log.exists() and log.stat().st_size:
            os.replace(log, self.worker.logs / f"{self.name}.previous.log")
        started = now_rfc3339()
        if image.kind == "pause":
            self._event("Normal", "Created", f"Created container: {self.name}")
            self._event("Normal", "Started", f"Started container {self.name}")
            self.started = self.ready = True
            self._set({"running": {"startedAt": started}})
            await self.worker.terminated.wait()
            return 0, "Completed", ""
        command = self._command(image)
        try:
            with open(log, "ab") as out:
                self.proc = await asyncio.create_subprocess_exec(
                    *command, cwd=str(self.worker.root), env=self.env, stdin=asyncio.subprocess.DEVNULL,
                    stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                    preexec_fn=join_cgroup(self.worker.cgroup))
        except (OSError, IndexError) as exc:
            text = f"failed to start container process {command!r}: {exc}"
            self._event("Warning", "Failed", f"Error: {text}")
            self.last_state = {"terminated": {"exitCode": 128, "reason": "StartError",
                                              "message": text, "startedAt": started,
                                              "finishedAt": now_rfc3339(),
                                              "containerID": self.container_id}}
            return 128, "StartError", text
        pid = self.proc.pid
        self.worker.kubelet.pids.add(pid, self.worker.key, self.name)
        self._event("Normal", "Created", f"Created container: {self.name}")
        self._event("Normal", "Started", f"Started container {self.name}")
        self._set({"running": {"startedAt": started}})
        self._side_tasks = [asyncio.create_task(self._watch_resources(pid))]
        self._side_tasks += self._probe_tasks()
        code = await self.proc.wait()
        for task in self._side_tasks:
            task.cancel()
        for task in self._side_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        _signal_group(pid, signal.SIGKILL)  # reap any straggling child of the container
        self.worker.kubelet.pids.remove(pid)
        self.proc = None
        self.ready = self.started = False
        self.usage = (0.0, 0)
        exit_code = 128 - code if code < 0 else code
        reason = self._kill_reason or ("Completed" if exit_code == 0 else "Error")
        if reason == "OOMKilled":
            exit_code = 137
        terminated: dict[str, Any] = {"exitCode": exit_code, "reason": reason,
                                      "startedAt": started, "finishedAt": now_rfc3339(),
                                      "containerID": self.container_id}
        if code < 0:
            terminated["signal"] = -code
        self.last_state = {"terminated": terminated}
        self.state = {"terminated": dict(terminated)}
        self.worker.publish()
        return exit_code, reason, ""

    # ---------------------------------------------------------------- probes
    def _probe_tasks(self) -> list[asyncio.Task[None]]:
        tasks = []
        startup = self.spec.get("startupProbe")
        if startup:
            tasks.append(asyncio.create_task(self._probe_loop("Startup", startup)))
        else:
            self.started = True
            self._started_event.set()
        readiness = self.spec.get("readinessProbe")
        if readiness:
            tasks.append(asyncio.create_task(self._probe_loop("Readiness", readiness)))
        elif self.started:
            self.ready = True
        liveness = self.spec.get("livenessProbe")
        if liveness:
            tasks.append(asyncio.create_task(self._probe_loop("Liveness", liveness)))
        self.worker.publish()
        return tasks

    async def _probe_loop(self, kind: str, probe: dict[str, Any]) -> None:
        timing = self.worker.timing
        if kind != "Startup":
            await self._started_event.wait()
        await asyncio.sleep(timing.initial_delay(kind, float(probe.get("initialDelaySeconds", 0))))
        period = timing.probe(float(probe.get("periodSeconds", 10)))
        failure_threshold = int(probe.get("failureThreshold", 3))
        success_threshold = int(probe.get("successThreshold", 1))
        successes = failures = 0
        while True:
            result = await probe_once(probe, self.spec, self.worker.ports.get,
                                      self.worker.exec_context(self.name))
            if self.worker.terminating or self._kill_reason is not None:
                # The kubelet has killed this container (e.g. OOM): its probes stop, and the
                # pod's status changes once, with the termination, as a real kubelet reports it.
                return
            if result.ok:
                successes, failures = successes + 1, 0
            else:
                successes, failures = 0, failures + 1
                self._event("Warning", "Unhealthy", f"{kind} probe failed: {result.message}")
            if kind == "Readiness":
                if result.ok and successes >= success_threshold and not self.ready:
                    self.ready = True
                    self.worker.publish()
                elif not result.ok and failures >= failure_threshold and self.ready:
                    self.ready = False
                    self.worker.publish()
            elif kind == "Startup" and result.ok:
                self.started = True
                self._started_event.set()
                if not self.spec.get("readinessProbe"):
                    self.ready = True
                self.worker.publish()
                return
            elif not result.ok and failures >= failure_threshold:
                self._event("Normal", "Killing", f"Container {self.name} failed "
                            f"{kind.lower()} probe, will be restarted")
                self.ready = False
                self.worker.publish()
                self.worker.spawn(self.stop(self.worker.grace_seconds()))
                return
            await asyncio.sleep(period)

    # ---------------------------------------------------------------- resources
    async def _watch_resources(self, pid: int) -> None:
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        cache: dict[int, psutil.Process] = {pid: root}
        window = CpuWindow()  # CPU as metrics.k8s.io serves it: a rate over its window, memory as sampled
        while True:
            rss, cpu = await asyncio.to_thread(_rss_and_cpu, root, cache)
            self.usage = (window.add(time.monotonic(), cpu), rss)
            if self.memory_limit is not None and rss > self.memory_limit:
                self._kill_reason = "OOMKilled"
                _signal_group(pid, signal.SIGKILL)
                return
            await asyncio.sleep(SAMPLE_S)

    # ---------------------------------------------------------------- stopping
    async def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL once ``grace`` seconds have passed."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        if grace <= 0:
            _signal_group(proc.pid, signal.SIGKILL)
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "image": self.image, "imageID": self.image_id,
            "ready": self.ready, "started": self.started, "restartCount": self.restart_count,
            "state": self.state, "lastState": self.last_state,
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return json.loads(json.dumps(out))


def _duration(seconds: float) -> str:
    """Go-style duration text as the kubelet prints it (``10s``, ``2m40s``)."""
    total = round(seconds, 1)
    if total < 60:
        return f"{total:g}s"
    minutes, secs = divmod(int(total), 60)
    return f"{minutes}m{secs}s" if secs else f"{minutes}m0s"
