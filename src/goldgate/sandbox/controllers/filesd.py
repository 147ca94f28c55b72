"""Prometheus file-based service discovery for the sandbox's pods.

``state_dir/prometheus/targets.json`` lists every Running pod that exposes container
port 8080 (the bot's metrics port) as ``127.0.0.1:<host port>`` with the labels a
Kubernetes SD relabelling would give: namespace, pod, app, version, pod_template_hash.
Prometheus re-reads the file on change; it is rewritten atomically and only on change.
"""

from __future__ import annotations

import json
import os
import pathlib

from goldgate.sandbox.controllers.images import ImagePullError, resolve_image
from goldgate.sandbox.controllers.kubelet import pod_ports
from goldgate.sandbox.controllers.podutil import Obj, is_deleting

METRICS_PORT = 8080


def _version(pod: Obj) -> str:
    labels = pod["metadata"].get("labels") or {}
    if labels.get("version"):
        return str(labels["version"])
    for c in pod.get("spec", {}).get("containers") or []:
        try:
            return resolve_image(c.get("image", "")).tag
        except ImagePullError:
            continue
    return ""


def targets(pods: list[Obj]) -> list[Obj]:
    out = []
    for pod in sorted(pods, key=lambda p: (p["metadata"].get("namespace", ""),
                                           p["metadata"]["name"])):
        if pod.get("status", {}).get("phase") != "Running" or is_deleting(pod):
            continue
        host = pod_ports(pod).get(METRICS_PORT)
        if host is None:
            continue
        labels = pod["metadata"].get("labels") or {}
        entry = {"namespace": pod["metadata"].get("namespace", "default"),
                 "pod": pod["metadata"]["name"], "app": labels.get("app", ""),
                 "version": _version(pod)}
        if labels.get("pod-template-hash"):
            entry["pod_template_hash"] = labels["pod-template-hash"]
        out.append({"targets": [f"127.0.0.1:{host}"], "labels": entry})
    return out


class FileSD:
    def __init__(self, state_dir: pathlib.Path) -> None:
        self.path = state_dir / "prometheus" / "targets.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._last: str | None = None

    def reconcile(self, pods: list[Obj]) -> None:
        text = json.dumps(targets(pods), indent=2)
        if text == self._last:
            return
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)
        self._last = text
