"""Watch streams: chunked JSON lines of ``{"type", "object"}``, as client-go expects.

Semantics follow the upstream API server: no resourceVersion (or "0") starts with a
synthetic ADDED per existing object; a given resourceVersion replays history after it
(410 Gone as an ERROR event when it is too old); ``sendInitialEvents`` ends the initial
burst with a bookmark annotated ``k8s.io/initial-events-end``; bookmarks are sent
periodically when allowed; ``timeoutSeconds`` ends the stream cleanly.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from goldgate.sandbox.apiserver import tables
from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.request import flag, int_param, wants_table
from goldgate.sandbox.apiserver.resources import Resource, store_key
from goldgate.sandbox.apiserver.rest import typed
from goldgate.sandbox.apiserver.status import ApiError, status_body
from goldgate.sandbox.selectors import (
    SelectorError,
    fields_match,
    matches,
    parse_field_selector,
    parse_label_selector,
)
from goldgate.sandbox.store import Gone, WatchEvent

Obj = dict[str, Any]
#: Upper bound on a watch without timeoutSeconds (clients re-establish watches).
MAX_WATCH_SECONDS = 1800


class _Filter:
    def __init__(self, request: web.Request, namespace: str | None) -> None:
        try:
            self.labels = parse_label_selector(request.query.get("labelSelector"))
            self.fields = parse_field_selector(request.query.get("fieldSelector"))
        except SelectorError as exc:
            raise ApiError(400, f"unable to parse selector: {exc}", "BadRequest") from exc
        self.namespace = namespace
        #: (namespace, name) of the objects the client currently believes match.
        self.known: set[tuple[str, str]] = set()

    @property
    def selective(self) -> bool:
        return bool(self.labels or self.fields)

    @staticmethod
    def key(obj: Obj) -> tuple[str, str]:
        meta = obj.get("metadata") or {}
        return (meta.get("namespace", ""), meta.get("name", ""))

    def translate(self, etype: str, obj: Obj) -> str | None:
        """The event type to send, as a selector-filtered upstream watch would.

        An object that stops matching the selector is reported DELETED, one that
        starts matching is ADDED; changes to objects outside the selection are dropped.
        """
        if not self.selective:
            return etype if self(obj) else None
        key = self.key(obj)
        now = self(obj)
        if etype == "DELETED":
            if key in self.known or now:
                self.known.discard(key)
                return "DELETED"
            return None
        if now:
            if key in self.known:
                return etype
            self.known.add(key)
            return "ADDED"
        if key in self.known:
            self.known.discard(key)
            return "DELETED"
        return None

    def __call__(self, obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        if not matches(self.labels, meta.get("labels")):
            return False
        return not self.fields or fields_match(self.fields, obj)


async def watch(ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None) -> web.StreamResponse:
    key = store_key(res)
    accept = _Filter(request, namespace)
    timeout = int_param(request, "timeoutSeconds") or MAX_WATCH_SECONDS
    bookmarks = flag(request, "allowWatchBookmarks")
    send_initial = flag(request, "sendInitialEvents")
    table_version = wants_table(request)
    rv_text = request.query.get("resourceVersion", "")

    queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

    def listener(event: WatchEvent) -> None:
        if event.resource == key:
            queue.put_nowait(event)

    # Everything below until the first await runs in one go on the event loop, so no
    # change can slip between the snapshot/history read and the subscription.
    unsubscribe = ctx.store.subscribe(listener)
    initial: list[tuple[str, Obj]] = []
    gone: str | None = None
    try:
        if send_initial or rv_text in ("", "0"):
            items, _ = ctx.store.list(key, namespace, copy_items=False)
            initial = [("ADDED", o) for o in items if accept(o)]
            accept.known = {accept.key(o) for _, o in initial}
        else:
            try:
                since = int(rv_text)
            except ValueError as exc:
                raise ApiError(400, f"invalid resourceVersion {rv_text!r}", "BadRequest") from exc
            try:
                initial = [(e.type, e.obj) for e in ctx.store.events_since(since, key) if accept(e.obj)]
                if accept.selective:
                    items, _ = ctx.store.list(key, namespace, copy_items=False)
                    accept.known = {accept.key(o) for o in items if accept(o)}
            except Gone as exc:
                gone = str(exc)
        start_rv = ctx.store.resource_version

        response = web.StreamResponse(status=200)
        response.content_type = "application/json"
        response.headers["Cache-Control"] = "no-cache, private"
        response.enable_chunked_encoding()
        await response.prepare(request)
        sender = _Sender(response, res, table_version, request.query.get("includeObject", "Object"))

        if gone is not None:
            await sender.raw({"type": "ERROR", "object": status_body(410, gone, "Expired")})
            return response
        for etype, obj in initial:
            await sender.event(etype, obj)
        if send_initial:
            await sender.bookmark(start_rv, initial_end=True)
        await _live(ctx, queue, accept, sender, timeout, bookmarks)
        return response
    finally:
        unsubscribe()


async def _live(
    ctx: ServerContext,
    queue: asyncio.Queue[WatchEvent],
    accept: _Filter,
    sender: _Sender,
    timeout: float,
    bookmarks: bool,
) -> None:
    deadline = time.monotonic() + timeout
    next_bookmark = time.monotonic() + ctx.bookmark_interval
    while True:
        now = time.monotonic()
        if now >= deadline:
            return
        wait = deadline - now
        if bookmarks:
            wait = min(wait, max(0.0, next_bookmark - now))
        try:
            event = await asyncio.wait_for(queue.get(), timeout=wait)
        except TimeoutError:
            if bookmarks and time.monotonic() >= next_bookmark:
                await sender.bookmark(ctx.store.resource_version)
                next_bookmark = time.monotonic() + ctx.bookmark_interval
            continue
        etype = accept.translate(event.type, event.obj)
        if etype is not None:
            await sender.event(etype, event.obj)


class _Sender:
    """Writes events in the shape the client asked for (object or Table row)."""

    def __init__(self, response: web.StreamResponse, res: Resource, table_version: str | None, include: str) -> None:
        self.response = response
        self.res = res
        self.table_version = table_version
        self.include = include
        self.columns_sent = False

    async def raw(self, payload: Obj) -> None:
        line = json.dumps(payload, separators=(",", ":")).encode() + b"\n"
        await self.response.write(line)

    async def event(self, etype: str, obj: Obj) -> None:
        obj = typed(self.res, dict(obj))
        if self.table_version:
            rv = obj.get("metadata", {}).get("resourceVersion", "")
            payload = tables.table(
                store_key(self.res),
                [obj],
                resource_version=rv,
                include_object=self.include if self.include != "Object" else "Metadata",
                with_columns=not self.columns_sent,
                table_version=self.table_version,
            )
            self.columns_sent = True
            await self.raw({"type": etype, "object": payload})
        else:
            await self.raw({"type": etype, "object": obj})

    async def bookmark(self, rv: str, *, initial_end: bool = False) -> None:
        meta: Obj = {"resourceVersion": rv}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        await self.raw({"type": "BOOKMARK", "object": {"kind": self.res.kind, "apiVersion": self.res.api_version, "metadata": meta}})
