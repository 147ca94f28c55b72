"""Garbage collector: dependents whose owners are all gone are deleted (background cascade).

An index of uid → object and owner uid → dependents is kept from the store's event
stream, so a deletion costs O(dependents) rather than a scan of every object. Pods are
deleted gracefully (deletionTimestamp, the kubelet drains and removes them); other
objects are removed at once.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

from goldgate.sandbox.controllers.podutil import Obj
from goldgate.sandbox.store import NotFound, Store, WatchEvent

Key = tuple[str, str, str]
#: Resources that cannot own anything; skipped to keep the index small.
_NEVER_OWNERS = {"events", "endpoints"}


class GarbageCollector:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._uids: dict[str, Key] = {}
        self._owners_of: dict[Key, set[str]] = {}
        self._dependents: dict[str, set[Key]] = defaultdict(set)
        self._suspects: set[Key] = set()

    def observe(self, event: WatchEvent) -> None:
        if event.resource in _NEVER_OWNERS:
            return
        meta = event.obj.get("metadata", {})
        key = (event.resource, meta.get("namespace", ""), meta.get("name", ""))
        uid = meta.get("uid", "")
        if event.type == "DELETED":
            self._uids.pop(uid, None)
            for owner in self._owners_of.pop(key, set()):
                self._dependents[owner].discard(key)
            self._suspects |= self._dependents.pop(uid, set())
            return
        self._uids[uid] = key
        owners = {ref.get("uid", "") for ref in meta.get("ownerReferences") or []}
        previous = self._owners_of.get(key, set())
        for owner in previous - owners:
            self._dependents[owner].discard(key)
        for owner in owners:
            self._dependents[owner].add(key)
        if owners:
            self._owners_of[key] = owners
            if event.type == "ADDED" and any(o not in self._uids for o in owners):
                self._suspects.add(key)
        else:
            self._owners_of.pop(key, None)

    def seed(self, objects: list[tuple[str, Obj]]) -> None:
        for resource, obj in objects:
            self.observe(WatchEvent("ADDED", resource, obj, 0))

    @property
    def pending(self) -> bool:
        return bool(self._suspects)

    def reconcile(self) -> None:
        suspects, self._suspects = self._suspects, set()
        for key in suspects:
            owners = self._owners_of.get(key)
            if not owners or any(o in self._uids for o in owners):
                continue
            resource, ns, name = key
            with contextlib.suppress(NotFound):
                if resource == "pods":
                    obj = self._store.get("pods", ns, name)
                    grace = int(obj.get("spec", {}).get("terminationGracePeriodSeconds", 30))
                    self._store.mark_deleting("pods", ns, name, grace)
                else:
                    self._store.delete(resource, ns, name)
