"""One probe attempt — httpGet, tcpSocket or exec — with upstream's success rules.

httpGet succeeds on a status in [200, 400), like the kubelet; the failure text mimics
the kubelet's so ``kubectl describe`` Events read the same as on a real node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from goldgate.sandbox.controllers.context import ExecContext


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str = ""


def resolve_port(port: Any, container: dict[str, Any]) -> int | None:
    """A probe/target port as a container port number (names looked up in ``ports``)."""
    if isinstance(port, int):
        return port
    text = str(port)
    if text.isdigit():
        return int(text)
    for p in container.get("ports") or []:
        if p.get("name") == text:
            return int(p["containerPort"])
    return None


async def _http(spec: dict[str, Any], host_port: int, timeout: float) -> ProbeResult:
    path = spec.get("path", "/") or "/"
    scheme = str(spec.get("scheme", "HTTP")).lower()
    url = f"{scheme}://127.0.0.1:{host_port}{path}"
    headers = {"Host": f"127.0.0.1:{host_port}", "User-Agent": "kube-probe/1.37",
               "Accept": "*/*", "Connection": "close"}
    for h in spec.get("httpHeaders") or []:
        headers[h.get("name", "")] = h.get("value", "")
    ctx = None
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the kubelet does not verify probe certificates either
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", host_port, ssl=ctx), timeout)
        request = f"GET {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(request.encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        parts = line.decode("latin-1").split()
        if len(parts) < 2 or not parts[1].isdigit():
            return ProbeResult(False, f'Get "{url}": malformed HTTP response {line!r}')
        code = int(parts[1])
        if 200 <= code < 400:
            return ProbeResult(True)
        return ProbeResult(False, f"HTTP probe failed with statuscode: {code}")
    except TimeoutError:
        return ProbeResult(False, f'Get "{url}": context deadline exceeded '
                                  "(Client.Timeout exceeded while awaiting headers)")
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        return ProbeResult(False, f'Get "{url}": dial tcp 127.0.0.1:{host_port}: connect: {reason}')
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _tcp(host_port: int, timeout: float) -> ProbeResult:
    try:
        _r, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", host_port), timeout)
    except (TimeoutError, OSError) as exc:
        return ProbeResult(False, f"dial tcp 127.0.0.1:{host_port}: connect: {exc or 'timeout'}")
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return ProbeResult(True)


async def run_command(command: list[str], ctx: ExecContext, timeout: float) -> tuple[int, bytes]:
    """Run an exec probe / preStop command in the pod's exec context."""
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=str(ctx.cwd), env=ctx.env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:  # timeout, or the pod/cluster stopping: never leave it running
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(proc.wait())
        raise
    return proc.returncode or 0, out or b""


async def _exec(spec: dict[str, Any], ctx: ExecContext, timeout: float) -> ProbeResult:
    command = [str(c) for c in spec.get("command") or []]
    if not command:
        return ProbeResult(False, "exec probe has no command")
    try:
        code, out = await run_command(command, ctx, timeout)
    except TimeoutError:
        return ProbeResult(False, f"command {command!r} timed out")
    except OSError as exc:
        return ProbeResult(False, f"exec {command[0]!r} failed: {exc.strerror}")
    if code == 0:
        return ProbeResult(True)
    text = out.decode(errors="replace").strip()
    return ProbeResult(False, f"command {command!r} exited with {code}: {text[:200]}")


async def probe_once(probe: dict[str, Any], container: dict[str, Any],
                     host_port: Callable[[int], int | None], ctx: ExecContext) -> ProbeResult:
    timeout = float(probe.get("timeoutSeconds", 1))
    for kind in ("httpGet", "tcpSocket"):
        spec = probe.get(kind)
        if spec is None:
            continue
        cport = resolve_port(spec.get("port"), container)
        mapped = host_port(cport) if cport is not None else None
        if mapped is None:
            return ProbeResult(False, f"{kind} port {spec.get('port')!r} is not a port of "
                                      f"container {container.get('name')!r}")
        if kind == "httpGet":
            return await _http(spec, mapped, timeout)
        return await _tcp(mapped, timeout)
    if "exec" in probe:
        return await _exec(probe["exec"], ctx, timeout)
    return ProbeResult(False, "unsupported probe handler (grpc is not available in the sandbox)")
