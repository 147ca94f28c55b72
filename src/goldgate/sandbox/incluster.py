"""Entrypoint of the sandbox's goldgate image: run ``goldgate ...`` as a pod would.

A real pod finds its account at ``/var/run/secrets/kubernetes.io/serviceaccount`` and
listens on its container port on the pod's own address. A sandbox pod is a process on the
host: its account folder is a directory the kubelet wrote (``SANDBOX_MOUNTS``), and each
container port is a free loopback port (``SANDBOX_PORT_<port>``). This entrypoint bridges
both without the library knowing: it points the official client's fixed in-cluster paths
at the pod's folder (``kubeconfig: in-cluster`` then works unchanged), and turns
``--host``/``--port`` into 127.0.0.1 and the mapped port (only loopback may listen).

    python -m goldgate.sandbox.incluster goldgate serve --host=0.0.0.0 --port=8080 ...
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def point_client_at_pod_account(environ: dict[str, str] | os._Environ[str] = os.environ) -> str | None:
    """Redirect kubernetes.config's in-cluster file names; returns the folder used."""
    folder = json.loads(environ.get("SANDBOX_MOUNTS") or "{}").get(SA_MOUNT)
    if not folder:
        return None
    from kubernetes.config import incluster_config

    incluster_config.SERVICE_TOKEN_FILENAME = os.path.join(folder, "token")
    incluster_config.SERVICE_CERT_FILENAME = os.path.join(folder, "ca.crt")
    return folder


def loopback_args(args: Sequence[str], environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    """``--host`` -> 127.0.0.1, ``--port N`` -> the host port mapped to container port N."""
    out: list[str] = []
    pending: str | None = None
    for arg in args:
        if pending == "--host":
            out.append("127.0.0.1")
        elif pending == "--port":
            out.append(environ.get(f"SANDBOX_PORT_{arg}", arg))
        elif arg.startswith("--host="):
            out.append("--host=127.0.0.1")
        elif arg.startswith("--port="):
            port = arg.split("=", 1)[1]
            out.append(f"--port={environ.get(f'SANDBOX_PORT_{port}', port)}")
        else:
            out.append(arg)
        pending = arg if arg in ("--host", "--port") and pending is None else None
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["goldgate"]:
        args = args[1:]
    if not args:
        print("goldgate image: no command given (container command: [goldgate], args: [...])", file=sys.stderr)
        return 2
    point_client_at_pod_account()
    from goldgate.cli import main as goldgate_main

    return goldgate_main(loopback_args(args))


if __name__ == "__main__":
    sys.exit(main())
