"""The sandbox's one Node, sized from this machine (cpu 2 as the task's target node)."""

from __future__ import annotations

import platform

import psutil

from goldgate.sandbox.controllers.kubelet import NODE_NAME
from goldgate.sandbox.controllers.quantity import format_kibibytes
from goldgate.sandbox.store import now_rfc3339

KUBELET_VERSION = "v1.37.0"


def node_object() -> dict:
    now = now_rfc3339()
    memory = format_kibibytes(psutil.virtual_memory().total)
    capacity = {"cpu": "2", "memory": memory, "pods": "2500", "ephemeral-storage": "10Gi"}
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": NODE_NAME, "labels": {
            "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": arch, "node-role.kubernetes.io/control-plane": ""}},
        "spec": {},
        "status": {
            "capacity": capacity, "allocatable": dict(capacity),
            "conditions": [
                {"type": t, "status": "False", "reason": r, "message": m,
                 "lastHeartbeatTime": now, "lastTransitionTime": now}
                for t, r, m in (("MemoryPressure", "KubeletHasSufficientMemory",
                                 "kubelet has sufficient memory available"),
                                ("DiskPressure", "KubeletHasNoDiskPressure",
                                 "kubelet has no disk pressure"),
                                ("PIDPressure", "KubeletHasSufficientPID",
                                 "kubelet has sufficient PID available"))
            ] + [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                  "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                  "lastTransitionTime": now}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": NODE_NAME}],
            "nodeInfo": {
                "machineID": "sandbox", "systemUUID": "sandbox", "bootID": "sandbox",
                "kernelVersion": platform.release(), "osImage": "goldgate sandbox",
                "containerRuntimeVersion": "sandbox://1.0", "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION, "operatingSystem": "linux",
                "architecture": arch},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }
