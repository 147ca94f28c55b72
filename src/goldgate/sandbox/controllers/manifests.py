"""The bot's real manifests (``deploy/k8s/``), loaded and applied through the store."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import yaml

from goldgate.sandbox.store import AlreadyExists, Store

#: kind → resource plural, for kinds whose plural is not simply lower-case + "s".
_PLURALS = {"Endpoints": "endpoints", "NetworkPolicy": "networkpolicies",
            "Ingress": "ingresses", "PodDisruptionBudget": "poddisruptionbudgets",
            "HorizontalPodAutoscaler": "horizontalpodautoscalers", "Gateway": "gateways"}


def plural(kind: str) -> str:
    if kind in _PLURALS:
        return _PLURALS[kind]
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    if lower.endswith("s"):
        return lower + "es"
    return lower + "s"


def default_manifests_dir() -> pathlib.Path:
    """``GOLDGATE_MANIFESTS_DIR``, else ``deploy/k8s`` of the repository holding the package."""
    env = os.environ.get("GOLDGATE_MANIFESTS_DIR")
    if env:
        return pathlib.Path(env)
    here = pathlib.Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "deploy" / "k8s"
        if candidate.is_dir():
            return candidate
    return here.parents[4] / "deploy" / "k8s"


#: The per-environment files of guide §5.1/5.2 (``kubectl apply -f k8s/staging.yaml``,
#: ``k8s/production.yaml``): each is applied on its own into its own namespace, never as
#: part of the release's base manifests.
ENVIRONMENT_FILES = ("staging.yaml", "production.yaml")


def load(directory: pathlib.Path) -> list[dict[str, Any]]:
    """Every YAML document of ``*.yaml``/``*.yml`` in name order (namespace files first),
    the per-environment files (:data:`ENVIRONMENT_FILES`) left out."""
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.name not in ENVIRONMENT_FILES)
    return _documents(files)


def load_file(path: pathlib.Path) -> list[dict[str, Any]]:
    """The documents of one file, as ``kubectl apply -f FILE`` reads them (namespace first)."""
    return _documents([path])


def _documents(files: list[pathlib.Path]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                raise ValueError(f"{path}: every document needs a kind")
            docs.append(doc)
    docs.sort(key=lambda d: 0 if d["kind"] == "Namespace" else 1)
    return docs


def apply(store: Store, docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        resource = plural(doc["kind"])
        if doc["kind"] != "Namespace":
            meta.setdefault("namespace", "default")
        try:
            store.create(resource, doc)
        except AlreadyExists:
            current = store.get(resource, meta.get("namespace"), meta["name"])
            doc["metadata"] = {**current["metadata"], **meta}
            doc["metadata"].pop("resourceVersion", None)
            store.update(resource, doc)
