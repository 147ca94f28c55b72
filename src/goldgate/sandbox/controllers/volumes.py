"""A container's filesystem view: volumes, the pod's account folder, and paths rewritten.

There is no mount namespace, so a volume is a directory under the pod's folder (or the
sandbox's ``pvc/`` folder for a PersistentVolumeClaim, which outlives the pod as a real
claim does) and the container's command, args and env values that name a ``mountPath``
are rewritten to that directory. What the kubelet would mount:

- ``configMap`` / ``secret`` volumes: one file per key (``items`` honoured), written again
  at every container start; a missing, non-optional source keeps the container waiting;
- ``emptyDir``: a directory of the pod, gone with it;
- ``persistentVolumeClaim``: ``STATE/pvc/NS/CLAIM``, kept across pods (the claim must exist);
- the ServiceAccount folder ``/var/run/secrets/kubernetes.io/serviceaccount`` with
  ``token``, ``ca.crt`` and ``namespace`` unless ``automountServiceAccountToken`` is false.
  Beside them the kubelet writes a kubeconfig with the same token (``KUBECONFIG``), and sets
  ``KUBERNETES_SERVICE_HOST``/``PORT`` to the sandbox API server: the official Python
  client's ``load_incluster_config()`` reads the folder from a fixed path, which the
  sandbox's goldgate image redirects (goldgate.sandbox.incluster); any other client uses
  the kubeconfig.
"""

from __future__ import annotations

import base64
import json
import pathlib
import re
import shutil
from typing import Any

from goldgate.sandbox import satoken
from goldgate.sandbox.controllers.envresolve import EnvError
from goldgate.sandbox.store import Store

Obj = dict[str, Any]

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
#: mountPath -> local directory, as JSON, for a process that must map a path itself.
MOUNTS_ENV = "SANDBOX_MOUNTS"


def _source(store: Store, namespace: str, vol: Obj) -> tuple[dict[str, bytes] | None, Obj]:
    if "configMap" in vol:
        src = vol["configMap"] or {}
        obj = store.find("configmaps", namespace, src.get("name", ""))
        if obj is None:
            return None, src
        data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data, src
    src = vol["secret"] or {}
    obj = store.find("secrets", namespace, src.get("secretName", ""))
    if obj is None:
        return None, src
    data = {k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()})
    return data, src


def _write_files(target: pathlib.Path, data: dict[str, bytes], src: Obj) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    items = src.get("items")
    chosen = {i["key"]: i.get("path", i["key"]) for i in items} if items else {k: k for k in data}
    for key, rel in chosen.items():
        if key not in data:
            raise EnvError(f'MountVolume.SetUp failed: key "{key}" not found')
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[key])


def _volume_dir(store: Store, pod: Obj, vol: Obj, pod_dir: pathlib.Path, state_dir: pathlib.Path) -> pathlib.Path:
    namespace = pod["metadata"].get("namespace", "default")
    name = vol.get("name", "")
    if "configMap" in vol or "secret" in vol:
        data, src = _source(store, namespace, vol)
        kind = "configmap" if "configMap" in vol else "secret"
        target = pod_dir / "volumes" / name
        if data is None:
            if src.get("optional"):
                target.mkdir(parents=True, exist_ok=True)
                return target
            source_name = src.get("name") or src.get("secretName")
            raise EnvError(f'MountVolume.SetUp failed for volume "{name}" : {kind} "{source_name}" not found')
        _write_files(target, data, src)
        return target
    if "persistentVolumeClaim" in vol:
        claim = (vol["persistentVolumeClaim"] or {}).get("claimName", "")
        if store.find("persistentvolumeclaims", namespace, claim) is None:
            raise EnvError(f'persistentvolumeclaim "{claim}" not found')
        target = state_dir / "pvc" / namespace / claim
    else:  # emptyDir, and any other kind as a plain directory of the pod
        target = pod_dir / "volumes" / name
    target.mkdir(parents=True, exist_ok=True)
    return target


def _automount(store: Store, pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    if "automountServiceAccountToken" in spec:
        return bool(spec["automountServiceAccountToken"])
    account = store.find("serviceaccounts", pod["metadata"].get("namespace", "default"),
                         spec.get("serviceAccountName") or "default")
    return (account or {}).get("automountServiceAccountToken", True) is not False


def _account_folder(pod: Obj, target: pathlib.Path, state_dir: pathlib.Path) -> dict[str, str]:
    """Write token, ca.crt, namespace and a kubeconfig; return the client's env variables."""
    namespace = pod["metadata"].get("namespace", "default")
    account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
    tls = state_dir / "tls"
    token = satoken.issue(satoken.signing_key(tls), namespace, account)
    port = (state_dir / "daemon.port").read_text().strip()
    target.mkdir(parents=True, exist_ok=True)
    (target / "token").write_text(token)
    (target / "namespace").write_text(namespace)
    ca = (tls / "ca.crt").read_bytes()
    (target / "ca.crt").write_bytes(ca)
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "in-cluster",
        "clusters": [{"name": "in-cluster", "cluster": {
            "server": f"https://127.0.0.1:{port}", "certificate-authority-data": base64.b64encode(ca).decode()}}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "in-cluster", "context": {"cluster": "in-cluster", "user": account,
                                                        "namespace": namespace}}],
    }
    (target / "kubeconfig").write_text(json.dumps(kubeconfig))
    return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port,
            "KUBERNETES_SERVICE_PORT_HTTPS": port, "KUBECONFIG": str(target / "kubeconfig")}


def prepare(store: Store, pod: Obj, container: Obj, pod_dir: pathlib.Path,
            state_dir: pathlib.Path) -> tuple[dict[str, str], dict[str, str]]:
    """(mountPath -> local directory, env the kubelet adds) for one container start."""
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    mounts: dict[str, str] = {}
    for m in container.get("volumeMounts") or []:
        vol = volumes.get(m.get("name"))
        if vol is None:
            raise EnvError(f'volumeMount "{m.get("name")}" names no volume of the pod')
        local = _volume_dir(store, pod, vol, pod_dir, state_dir)
        if m.get("subPath"):
            local = local / m["subPath"]
        mounts[str(m.get("mountPath", "")).rstrip("/") or "/"] = str(local)
    env: dict[str, str] = {}
    if _automount(store, pod) and SA_MOUNT not in mounts and (state_dir / "daemon.port").exists():
        folder = pod_dir / "volumes" / "kube-api-access"
        env = _account_folder(pod, folder, state_dir)
        mounts[SA_MOUNT] = str(folder)
    if mounts:
        env[MOUNTS_ENV] = json.dumps(mounts)
    return mounts, env


def rewrite(value: str, mounts: dict[str, str]) -> str:
    """Replace a mountPath at the start of ``value`` or after ``=`` / ``:`` by its directory.

    One pass over all mounts (longest first), so a directory put in never matches again.
    """
    if not mounts:
        return value
    names = "|".join(re.escape(m) for m in sorted(mounts, key=len, reverse=True))
    pattern = re.compile(r"(^|[=:])(" + names + r")(?=/|$|:)")
    return pattern.sub(lambda m: m.group(1) + mounts[m.group(2)], value)
