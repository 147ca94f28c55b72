"""Production beside the release under test: the release's own ``production.yaml``.

Guide §5.2 deploys production with ``kubectl apply -f k8s/production.yaml``; the sandbox
does the same at start, through the same apply path as the release's base manifests, so
"staging matches production" compares two live Deployments (the release under test in
``trading`` and production in ``trading-production``) instead of the release with a copy
of its own files.

Production runs the whole Deployment as the file says, three replicas included: the check
compares replica counts (guide §1.2), so a one-replica stand-in would be a difference the
sandbox made up. Its pods are ordinary bot processes; they read the market feed but
get no order database of the regions (their ConfigMap is the file's own).

The release fault ``drifted-staging`` gives production twice the bot container's memory
limit, as a production changed by hand would have.
"""

from __future__ import annotations

import pathlib
from typing import Any

from goldgate.sandbox.controllers import manifests

PRODUCTION_FILE = "production.yaml"
DRIFT_FAULT = "drifted-staging"


def production_docs(directory: pathlib.Path, faults: list[str]) -> list[dict[str, Any]]:
    """``production.yaml``'s documents (none when the release has no such file)."""
    path = directory / PRODUCTION_FILE
    if not path.is_file():
        return []
    docs = manifests.load_file(path)
    if DRIFT_FAULT in faults:
        drift(docs)
    return docs


def drift(docs: list[dict[str, Any]]) -> None:
    """Twice the memory limit of the first container of production's Deployment."""
    for doc in docs:
        if doc.get("kind") == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            limits = container.setdefault("resources", {}).setdefault("limits", {})
            limits["memory"] = "3Gi" if limits.get("memory") == "2Gi" else "2Gi"
            return
