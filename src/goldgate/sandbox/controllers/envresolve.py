"""A container's environment as the kubelet builds it: envFrom, env, valueFrom, $(VAR).

Missing non-optional ConfigMaps/Secrets raise :class:`EnvError`; the kubelet turns it
into the upstream waiting reason ``CreateContainerConfigError``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from goldgate.sandbox.store import Store

_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


class EnvError(Exception):
    """The container cannot be configured yet (missing ConfigMap, key, Secret)."""


def _expand(value: str, env: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env.get(name, m.group(0))

    return _REF.sub(sub, value)


def _source_data(store: Store, namespace: str, kind: str, name: str) -> dict[str, str] | None:
    if kind == "configmap":
        obj = store.find("configmaps", namespace, name)
        if obj is None:
            return None
        return {k: str(v) for k, v in (obj.get("data") or {}).items()}
    obj = store.find("secrets", namespace, name)
    if obj is None:
        return None
    out = {k: str(v) for k, v in (obj.get("stringData") or {}).items()}
    for k, v in (obj.get("data") or {}).items():
        try:
            out[k] = base64.b64decode(v).decode()
        except (ValueError, UnicodeDecodeError):
            out[k] = str(v)
    return out


def _field_ref(pod: dict[str, Any], path: str) -> str:
    meta = pod.get("metadata", {})
    m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": pod.get("spec", {}).get("nodeName", ""),
        "spec.serviceAccountName": pod.get("spec", {}).get("serviceAccountName", "default"),
        "status.podIP": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
    }
    return str(simple.get(path, ""))


def _resource_ref(container: dict[str, Any], ref: dict[str, Any]) -> str:
    from goldgate.sandbox.controllers.quantity import parse_quantity

    section, _, res = str(ref.get("resource", "")).partition(".")
    value = ((container.get("resources") or {}).get(section) or {}).get(res)
    if value is None:
        return "0"
    divisor = parse_quantity(ref.get("divisor", "1"))
    return str(max(1, int(-(-parse_quantity(value) // divisor))))


def resolve_env(store: Store, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """The variables the container's process sees from its spec (not the sandbox's own)."""
    namespace = pod["metadata"].get("namespace", "default")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("configmap", "configMapRef"), ("secret", "secretRef")):
            ref = source.get(key)
            if not ref:
                continue
            data = _source_data(store, namespace, kind, ref.get("name", ""))
            if data is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'{kind} "{ref.get("name")}" not found')
            for k, v in data.items():
                env[prefix + k] = v
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "value" in var or "valueFrom" not in var:
            env[name] = _expand(str(var.get("value", "")), env)
            continue
        vf = var["valueFrom"]
        if "fieldRef" in vf:
            env[name] = _field_ref(pod, vf["fieldRef"].get("fieldPath", ""))
        elif "resourceFieldRef" in vf:
            env[name] = _resource_ref(container, vf["resourceFieldRef"])
        else:
            for kind, key in (("configmap", "configMapKeyRef"), ("secret", "secretKeyRef")):
                ref = vf.get(key)
                if not ref:
                    continue
                data = _source_data(store, namespace, kind, ref.get("name", ""))
                if data is None or ref.get("key") not in data:
                    if ref.get("optional"):
                        break
                    if data is None:
                        raise EnvError(f'{kind} "{ref.get("name")}" not found')
                    raise EnvError(f'couldn\'t find key {ref.get("key")} in {kind.capitalize()} '
                                   f'{namespace}/{ref.get("name")}')
                env[name] = data[ref["key"]]
                break
    return env
