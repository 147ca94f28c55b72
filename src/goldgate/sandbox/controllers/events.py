"""Events, recorded through the store as core/v1 Events, aggregated like upstream.

Repeating the same (object, reason, message) bumps ``count`` and ``lastTimestamp`` of
the existing Event instead of creating a new one — what ``kubectl describe`` shows as
``x5 over 2m``.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import deque
from typing import Any

from goldgate.sandbox.store import Store, StoreError, now_rfc3339

log = logging.getLogger("goldgate.sandbox.events")

#: API groups by kind, for involvedObject.apiVersion.
_API_VERSION = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1"}
#: Events older than this are deleted, like the API server's default ``--event-ttl=1h``.
EVENT_TTL_S = 3600.0


class EventRecorder:
    def __init__(self, store: Store, host: str = "sandbox-node") -> None:
        self._store = store
        self._host = host
        self._seen: dict[tuple[str, str, str, str], tuple[str, str]] = {}
        self._created: deque[tuple[float, str, str]] = deque()

    def _expire(self) -> None:
        cutoff = time.monotonic() - EVENT_TTL_S
        while self._created and self._created[0][0] < cutoff:
            _t, namespace, name = self._created.popleft()
            with contextlib.suppress(StoreError):
                self._store.delete("events", namespace, name)

    def record(self, obj: dict[str, Any], kind: str, etype: str, reason: str, message: str,
               component: str) -> None:
        """Record one Event about ``obj`` (a stored object of ``kind``); never raises."""
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), reason, message, component)
        now = now_rfc3339()
        self._expire()
        try:
            known = self._seen.get(key)
            if known is not None:
                existing = self._store.find("events", known[0], known[1])
                if existing is not None:
                    def bump(ev: dict[str, Any]) -> None:
                        ev["count"] = int(ev.get("count", 1)) + 1
                        ev["lastTimestamp"] = now

                    self._store.mutate("events", known[0], known[1], bump)
                    return
            name = f"{meta.get('name', 'unknown')}.{uuid.uuid4().hex[:16]}"
            self._store.create("events", {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": {
                    "apiVersion": _API_VERSION.get(kind, "v1"),
                    "kind": kind,
                    "name": meta.get("name", ""),
                    "namespace": namespace,
                    "uid": meta.get("uid", ""),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "type": etype,
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": component, "host": self._host}
                if component == "kubelet" else {"component": component},
                "reportingComponent": component,
                "reportingInstance": self._host if component == "kubelet" else component,
            })
            self._seen[key] = (namespace, name)
            self._created.append((time.monotonic(), namespace, name))
            if len(self._seen) > 20_000:
                self._seen.clear()
        except StoreError as exc:  # an event must never break a controller
            log.debug("event %s/%s not recorded: %s", reason, message, exc)
