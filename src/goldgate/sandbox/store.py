"""The sandbox cluster's object store: what etcd is to a real API server.

One store lives in the sandbox daemon's event loop and is shared by the API server
(which translates HTTP verbs into these calls) and the controllers (which read and
write through the same calls), so every change — by kubectl or by a controller —
bumps one global resourceVersion and reaches every watcher in order.

All methods are synchronous and must be called from the daemon's event-loop thread.
Objects go in and come out as deep copies: nobody can mutate stored state by accident.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from goldgate.sandbox.selectors import (
    fields_match,
    matches,
    parse_field_selector,
    parse_label_selector,
)

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (resource plural, namespace or "", name)

#: How many past events a watch can resume from; older resourceVersions get 410 Gone.
HISTORY = 20_000


class StoreError(Exception):
    """Base class; ``code`` and ``reason`` map straight onto a Kubernetes Status."""

    code = 500
    reason = "InternalError"


class NotFound(StoreError):  # noqa: N818 - named after the Kubernetes Status reason
    code = 404
    reason = "NotFound"


class AlreadyExists(StoreError):  # noqa: N818 - named after the Kubernetes Status reason
    code = 409
    reason = "AlreadyExists"


class Conflict(StoreError):  # noqa: N818 - named after the Kubernetes Status reason
    code = 409
    reason = "Conflict"


class Invalid(StoreError):  # noqa: N818 - named after the Kubernetes Status reason
    code = 422
    reason = "Invalid"


class Gone(StoreError):  # noqa: N818 - named after the Kubernetes Status reason
    code = 410
    reason = "Expired"


@dataclass(frozen=True)
class WatchEvent:
    """One change, as a watch stream sends it: ADDED, MODIFIED or DELETED."""

    type: str
    resource: str
    obj: Obj
    rv: int

    @property
    def namespace(self) -> str:
        return self.obj.get("metadata", {}).get("namespace", "")


def now_rfc3339() -> str:
    """Timestamps as the API server writes them (second precision, Z suffix)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_part(obj: Obj) -> Any:
    """The part of an object whose change bumps metadata.generation."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _without_rv(obj: Obj) -> Obj:
    out = dict(obj)
    out["metadata"] = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return out


class Store:
    """In-memory objects keyed by (resource, namespace, name) with a global revision."""

    def __init__(self) -> None:
        self._objects: dict[Key, Obj] = {}
        self._rv = 0
        self._history: deque[WatchEvent] = deque(maxlen=HISTORY)
        self._listeners: list[Callable[[WatchEvent], None]] = []
        #: Optional defaulting hook (resource, obj, creating) run on every create and
        #: non-status update, as a real API server defaults every write it stores.
        self.defaulter: Callable[..., Obj] | None = None

    # ----------------------------------------------------------------- bookkeeping
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def _bump(self) -> int:
        self._rv += 1
        return self._rv

    def _emit(self, etype: str, resource: str, obj: Obj, rv: int) -> None:
        event = WatchEvent(etype, resource, copy.deepcopy(obj), rv)
        self._history.append(event)
        for listener in list(self._listeners):
            listener(event)

    def subscribe(self, listener: Callable[[WatchEvent], None]) -> Callable[[], None]:
        """Call ``listener`` synchronously for every future event; returns unsubscribe."""
        self._listeners.append(listener)

        def _unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return _unsubscribe

    def events_since(self, rv: int, resource: str | None = None) -> list[WatchEvent]:
        """Events newer than ``rv``; raises Gone when ``rv`` fell out of the history."""
        if self._history and rv < self._history[0].rv - 1 and rv < self._rv:
            raise Gone(f"too old resource version: {rv} ({self._history[0].rv - 1})")
        return [e for e in self._history if e.rv > rv and (resource is None or e.resource == resource)]

    @staticmethod
    def _key(resource: str, namespace: str | None, name: str) -> Key:
        return (resource, namespace or "", name)

    # ----------------------------------------------------------------- reads
    def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        obj = self._objects.get(self._key(resource, namespace, name))
        if obj is None:
            raise NotFound(f'{resource} "{name}" not found')
        return copy.deepcopy(obj)

    def find(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """Like :meth:`get` but ``None`` instead of NotFound (controllers' convenience)."""
        obj = self._objects.get(self._key(resource, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        copy_items: bool = True,
    ) -> tuple[list[Obj], str]:
        """Objects of one resource, filtered; returns (items, list resourceVersion).

        ``copy_items=False`` returns the stored objects themselves, for a caller that
        serialises them at once without mutating them (the API server's list path,
        where deep copies of thousands of pods would dominate the response time).
        """
        reqs = parse_label_selector(label_selector)
        fterms = parse_field_selector(field_selector)
        items = []
        for (res, ns, _name), obj in sorted(self._objects.items()):
            if res != resource or (namespace and ns != namespace):
                continue
            if not matches(reqs, obj.get("metadata", {}).get("labels")):
                continue
            if fterms and not fields_match(fterms, obj):
                continue
            items.append(copy.deepcopy(obj) if copy_items else obj)
        return items, self.resource_version

    def all_keys(self, resource: str | None = None) -> Iterable[Key]:
        return [k for k in self._objects if resource is None or k[0] == resource]

    # ----------------------------------------------------------------- writes
    def create(self, resource: str, obj: Obj) -> Obj:
        """Store a new object; assigns uid, creationTimestamp, generation, resourceVersion."""
        obj = copy.deepcopy(obj)
        if self.defaulter is not None:
            self.defaulter(resource, obj, creating=True)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise Invalid("metadata.name: Required value: name or generateName is required")
            meta["name"] = prefix + uuid.uuid4().hex[:5]
        key = self._key(resource, meta.get("namespace"), meta["name"])
        if key in self._objects:
            raise AlreadyExists(f'{resource} "{meta["name"]}" already exists')
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta.setdefault("generation", 1)
        meta.pop("resourceVersion", None)
        rv = self._bump()
        meta["resourceVersion"] = str(rv)
        self._objects[key] = obj
        self._emit("ADDED", resource, obj, rv)
        return copy.deepcopy(obj)

    def update(self, resource: str, obj: Obj, *, status_only: bool = False) -> Obj:
        """Replace an object. A resourceVersion in ``obj`` must match (409 otherwise).

        ``status_only`` is the /status subresource: only ``status`` is taken from ``obj``.
        Otherwise ``status`` is kept from the stored object unless ``obj`` carries one
        and generation is bumped when anything outside metadata/status changed.
        """
        meta = obj.get("metadata", {})
        key = self._key(resource, meta.get("namespace"), meta.get("name", ""))
        current = self._objects.get(key)
        if current is None:
            raise NotFound(f'{resource} "{meta.get("name")}" not found')
        sent_rv = meta.get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {resource} "{meta.get("name")}": '
                "the object has been modified; please apply your changes to the latest version and try again"
            )
        if status_only:
            new = copy.deepcopy(current)
            new["status"] = copy.deepcopy(obj.get("status", {}))
        else:
            new = copy.deepcopy(obj)
            if self.defaulter is not None:
                self.defaulter(resource, new, creating=False)
            new_meta = new.setdefault("metadata", {})
            for fixed in ("uid", "creationTimestamp", "namespace", "name"):
                if fixed in current["metadata"]:
                    new_meta[fixed] = current["metadata"][fixed]
            # deletionTimestamp can only be set through delete(), never cleared.
            for sticky in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                if sticky in current["metadata"]:
                    new_meta[sticky] = current["metadata"][sticky]
            if "status" not in obj and "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            gen = current["metadata"].get("generation", 1)
            if _spec_part(new) != _spec_part(current):
                gen += 1
            new_meta["generation"] = gen
        if _without_rv(new) == _without_rv(current):
            # No-op writes do not bump the revision (as on a real server).
            return copy.deepcopy(current)
        rv = self._bump()
        new["metadata"]["resourceVersion"] = str(rv)
        self._objects[key] = new
        self._emit("MODIFIED", resource, new, rv)
        return copy.deepcopy(new)

    def mutate(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        change: Callable[[Obj], None],
        *,
        status_only: bool = False,
    ) -> Obj:
        """Read-modify-write without a conflict check (controllers own their fields)."""
        obj = self.get(resource, namespace, name)
        change(obj)
        obj["metadata"].pop("resourceVersion", None)
        return self.update(resource, obj, status_only=status_only)

    def mark_deleting(self, resource: str, namespace: str | None, name: str, grace_seconds: int) -> Obj:
        """Graceful deletion: set deletionTimestamp; the owner of the object finishes it."""
        key = self._key(resource, namespace, name)
        current = self._objects.get(key)
        if current is None:
            raise NotFound(f'{resource} "{name}" not found')
        if "deletionTimestamp" in current["metadata"]:
            return copy.deepcopy(current)
        new = copy.deepcopy(current)
        new["metadata"]["deletionTimestamp"] = now_rfc3339()
        new["metadata"]["deletionGracePeriodSeconds"] = grace_seconds
        rv = self._bump()
        new["metadata"]["resourceVersion"] = str(rv)
        self._objects[key] = new
        self._emit("MODIFIED", resource, new, rv)
        return copy.deepcopy(new)

    def delete(self, resource: str, namespace: str | None, name: str) -> Obj:
        """Remove an object now and tell watchers (DELETED carries the last state)."""
        key = self._key(resource, namespace, name)
        current = self._objects.pop(key, None)
        if current is None:
            raise NotFound(f'{resource} "{name}" not found')
        rv = self._bump()
        current["metadata"]["resourceVersion"] = str(rv)
        self._emit("DELETED", resource, current, rv)
        return copy.deepcopy(current)
