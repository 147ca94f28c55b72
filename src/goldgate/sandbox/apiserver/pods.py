"""``pods/log`` and ``pods/exec``: the two streaming pod subresources kubectl uses.

Logs are read from the file the kubelet writes each container's output to; ``follow``
keeps polling it until the pod is gone. Exec speaks the Kubernetes WebSocket
remote-command protocol (``v5.channel.k8s.io``, falling back to ``v4``): every binary
message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a final
Status JSON carrying the exit code), 4 resize, 255 close (v5: the client closed its
stdin). The command runs as a local process with the container's env and cwd.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from typing import Any

from aiohttp import WSMsgType, web

from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.request import flag, int_param
from goldgate.sandbox.apiserver.status import ApiError, not_found

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
TAIL_READ_LIMIT = 16 * 1024 * 1024


def _pod(ctx: ServerContext, namespace: str, name: str) -> dict[str, Any]:
    pod = ctx.store.find("pods", namespace, name)
    if pod is None:
        raise not_found("pods", name)
    return pod


def _container_name(pod: dict[str, Any], wanted: str | None) -> str:
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    name = pod["metadata"]["name"]
    if wanted:
        if wanted not in containers:
            raise ApiError(400, f"container {wanted} is not valid for pod {name}", "BadRequest")
        return wanted
    if len(containers) == 1:
        return str(containers[0])
    default = ((pod.get("metadata") or {}).get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    if default in containers:
        return str(default)
    raise ApiError(
        400,
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(map(str, containers))}]",
        "BadRequest",
    )


def _waiting_message(pod: dict[str, Any], container: str) -> str:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == container:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting:
                return f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: {waiting.get("reason", "ContainerCreating")}'
    return f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: ContainerCreating'


# ----------------------------------------------------------------------------- logs
def _restarted(pod: dict[str, Any], container: str) -> bool:
    """Whether a previous instance exists (its output is in the same log file)."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == container:
            return int(cs.get("restartCount", 0)) > 0
    return False


def _tail(data: bytes, lines: int | None) -> bytes:
    if lines is None or lines < 0:
        return data
    if lines == 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


async def logs(ctx: ServerContext, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
    pod = _pod(ctx, namespace, name)
    container = _container_name(pod, request.query.get("container"))
    if ctx.cluster is None:
        raise ApiError(400, _waiting_message(pod, container), "BadRequest")
    if flag(request, "previous") and not _restarted(pod, container):
        raise ApiError(400, f'previous terminated container "{container}" in pod "{name}" not found', "BadRequest")
    path = ctx.cluster.pod_log_path(namespace, name, container)
    if path is None or not path.exists():
        raise ApiError(400, _waiting_message(pod, container), "BadRequest")
    tail_lines = int_param(request, "tailLines")
    limit_bytes = int_param(request, "limitBytes")
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - TAIL_READ_LIMIT))
        data = fh.read()
        position = fh.tell()
    data = _tail(data, tail_lines)
    if limit_bytes is not None and limit_bytes >= 0:
        data = data[:limit_bytes]
    if not flag(request, "follow"):
        return web.Response(body=data, content_type="text/plain")

    response = web.StreamResponse(status=200)
    response.content_type = "text/plain"
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(data)
    uid = pod["metadata"].get("uid")
    while True:
        await asyncio.sleep(ctx.log_poll_interval)
        current = ctx.store.find("pods", namespace, name)
        gone = current is None or current["metadata"].get("uid") != uid
        new_path = ctx.cluster.pod_log_path(namespace, name, container)
        if new_path is not None and new_path != path:
            path, position = new_path, 0
        chunk = b""
        if path.exists():
            with path.open("rb") as fh:
                if fh.seek(0, os.SEEK_END) < position:
                    position = 0  # the file was truncated or replaced
                fh.seek(position)
                chunk = fh.read()
                position = fh.tell()
        if chunk:
            await response.write(chunk)
        if gone:
            return response


# ----------------------------------------------------------------------------- exec
def _failure(message: str, reason: str = "InternalError", exit_code: int | None = None) -> bytes:
    status: dict[str, Any] = {"metadata": {}, "status": "Failure", "message": message, "reason": reason}
    if exit_code is not None:
        status["details"] = {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}
    return json.dumps(status).encode()


def _reject_spdy(request: web.Request) -> None:
    upgrade = request.headers.get("Upgrade", "").lower()
    if upgrade.startswith("spdy"):
        raise ApiError(
            400,
            "the sandbox API server supports pods/exec only over WebSocket "
            "(v5.channel.k8s.io / v4.channel.k8s.io); SPDY is not supported — use kubectl >= 1.30 "
            "or a client with WebSocket exec",
            "BadRequest",
        )
    if upgrade != "websocket":
        raise ApiError(400, "Upgrade request required", "BadRequest")


async def exec_(ctx: ServerContext, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
    # Pod and container problems are reported first: kubectl retries a failed WebSocket
    # upgrade over SPDY, and the user must see why exec failed, not "SPDY unsupported".
    pod = _pod(ctx, namespace, name)
    container = _container_name(pod, request.query.get("container"))
    command = request.query.getall("command", [])
    if not command:
        raise ApiError(400, "you must specify at least 1 command", "BadRequest")
    exec_ctx = ctx.cluster.pod_exec_context(namespace, name, container) if ctx.cluster else None
    if exec_ctx is None:
        raise ApiError(
            400, f"unable to upgrade connection: container {container} not found in pod {name} or not running",
            "BadRequest",
        )
    _reject_spdy(request)
    want_stdin = flag(request, "stdin")
    tty = flag(request, "tty")

    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, max_msg_size=0)
    await ws.prepare(request)
    v5 = ws.ws_protocol == "v5.channel.k8s.io"
    try:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=str(exec_ctx.cwd),
            env=dict(exec_ctx.env),
            stdin=asyncio.subprocess.PIPE if want_stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if tty else asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError, OSError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        await _send(ws, ERROR, _failure(f'exec: "{command[0]}": {detail}: unknown', exit_code=None))
        await ws.close()
        return ws

    async def pump(stream: asyncio.StreamReader | None, channel: int) -> None:
        if stream is None:
            return
        while chunk := await stream.read(32 * 1024):
            await _send(ws, channel, chunk)

    async def feed() -> None:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY or not msg.data:
                continue
            channel, payload = msg.data[0], msg.data[1:]
            if channel == STDIN and proc.stdin is not None and payload:
                with contextlib.suppress(ConnectionError, BrokenPipeError):
                    proc.stdin.write(payload)
                    await proc.stdin.drain()
            elif channel == CLOSE and v5 and payload[:1] == bytes([STDIN]) and proc.stdin is not None:
                proc.stdin.close()
        # The client went away: nothing is left to deliver the output to.
        if proc.returncode is None:
            _kill_group(proc.pid)

    feeder = asyncio.create_task(feed())
    try:
        await asyncio.gather(pump(proc.stdout, STDOUT), pump(proc.stderr, STDERR))
        code = await proc.wait()
        if code == 0:
            await _send(ws, ERROR, json.dumps({"metadata": {}, "status": "Success"}).encode())
        else:
            message = f"command terminated with non-zero exit code: error executing command {command}, exit code {code}"
            await _send(ws, ERROR, _failure(message, "NonZeroExitCode", code if code > 0 else 128 - code))
        await ws.close()
    except (ConnectionError, RuntimeError) as exc:
        log.debug("exec stream ended early: %s", exc)
    finally:
        if proc.returncode is None:
            _kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await feeder
    return ws


async def _send(ws: web.WebSocketResponse, channel: int, payload: bytes) -> None:
    if not ws.closed:
        await ws.send_bytes(bytes([channel]) + payload)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
