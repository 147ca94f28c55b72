"""The REST verbs of ordinary resources: get, list, create, update, patch, delete.

Handlers translate HTTP into :class:`~goldgate.sandbox.store.Store` calls and back.
Input is validated (422) and defaulted before it reaches the store; pods are deleted
gracefully (``deletionTimestamp``; the kubelet finishes the job) unless the grace
period is zero or the pod never reached a node.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import yaml
from aiohttp import web

from goldgate.sandbox.apiserver import defaults, tables
from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.patch import (
    PatchError,
    json_merge_patch,
    json_patch,
    strategic_merge_patch,
)
from goldgate.sandbox.apiserver.request import (
    int_param,
    is_dry_run,
    read_body,
    wants_table,
)
from goldgate.sandbox.apiserver.resources import Resource, store_key
from goldgate.sandbox.apiserver.status import ApiError, json_response, not_found, success_body
from goldgate.sandbox.apiserver.validation import validate
from goldgate.sandbox.selectors import SelectorError
from goldgate.sandbox.store import AlreadyExists, Conflict, NotFound, Obj

PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "unsupported",
}


def typed(res: Resource, obj: Obj) -> Obj:
    """Objects leave the server with their apiVersion and kind, whoever stored them."""
    obj["apiVersion"] = res.api_version
    obj["kind"] = res.kind
    return obj


def _ensure_namespace(ctx: ServerContext, res: Resource, namespace: str | None) -> None:
    if res.namespaced and namespace and ctx.store.find("namespaces", None, namespace) is None:
        raise ApiError(404, f'namespaces "{namespace}" not found', "NotFound", {"name": namespace, "kind": "namespaces"})


def _get(ctx: ServerContext, res: Resource, namespace: str | None, name: str) -> Obj:
    try:
        return ctx.store.get(store_key(res), namespace, name)
    except NotFound as exc:
        raise not_found(res.qualified, name) from exc


def _respond_object(request: web.Request, res: Resource, obj: Obj, status: int = 200) -> web.Response:
    obj = typed(res, obj)
    version = wants_table(request)
    if version:
        rv = obj.get("metadata", {}).get("resourceVersion", "")
        include = request.query.get("includeObject", "Metadata")
        return json_response(
            tables.table(store_key(res), [obj], resource_version=rv, include_object=include, table_version=version),
            status,
        )
    return json_response(obj, status)


# ----------------------------------------------------------------------------- reads
def _continue_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, "continue key is not valid", "BadRequest") from exc


def _select(ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None, *,
            copy_items: bool = True) -> tuple[list[Obj], str]:
    """The objects the request's label and field selectors pick; a bad selector is a 400."""
    try:
        return ctx.store.list(
            store_key(res),
            namespace,
            label_selector=request.query.get("labelSelector"),
            field_selector=request.query.get("fieldSelector"),
            copy_items=copy_items,
        )
    except SelectorError as exc:
        raise ApiError(400, f"unable to parse selector: {exc}", "BadRequest") from exc


def list_objects(ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None) -> web.Response:
    items, rv = _select(ctx, request, res, namespace, copy_items=False)
    # Stored objects are not copied (see Store.list); only a shallow top level is
    # rebuilt here, and nothing below mutates nested parts.
    items = [{**item, "apiVersion": res.api_version, "kind": res.kind} for item in items]
    meta: Obj = {"resourceVersion": rv}
    limit = int_param(request, "limit")
    offset = _continue_offset(request.query.get("continue"))
    if offset:
        items = items[offset:]
    if limit and limit > 0 and len(items) > limit:
        meta["continue"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
        meta["remainingItemCount"] = len(items) - limit
        items = items[:limit]
    version = wants_table(request)
    if version:
        body = tables.table(
            store_key(res),
            items,
            resource_version=rv,
            include_object=request.query.get("includeObject", "Metadata"),
            table_version=version,
        )
        body["metadata"].update(meta)
        return json_response(body)
    return json_response({"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta, "items": items})


def get_object(ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None, name: str) -> web.Response:
    return _respond_object(request, res, _get(ctx, res, namespace, name))


# ----------------------------------------------------------------------------- writes
def _strict_fields(request: web.Request, res: Resource, obj: Obj) -> None:
    """``fieldValidation=Strict`` (kubectl create/apply): unknown or mistyped fields are a 400.

    kubectl relies on this server-side check instead of validating manifests itself,
    so a typo such as ``replica: 3`` must be refused, not silently dropped.
    """
    if request.query.get("fieldValidation") != "Strict":
        return
    import kubernetes_validate

    candidate = {k: v for k, v in obj.items() if k != "status"}
    candidate["apiVersion"], candidate["kind"] = res.api_version, res.kind
    try:
        kubernetes_validate.validate(candidate, "1.37", strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        raise ApiError(400, f"strict decoding error: {exc.message}" + (f" (at {where})" if where else ""), "BadRequest") from exc
    except kubernetes_validate.utils.SchemaNotFoundError:
        return


def _prepare(res: Resource, obj: Obj, namespace: str | None, request: web.Request | None = None) -> Obj:
    validate(res, obj, namespace=namespace)
    if request is not None:
        _strict_fields(request, res, obj)
    obj = copy.deepcopy(obj)
    obj["apiVersion"] = res.api_version
    obj["kind"] = res.kind
    meta = obj.setdefault("metadata", {})
    if res.namespaced:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    return obj


async def create_object(ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None) -> web.Response:
    body = await read_body(request)
    obj = _prepare(res, body, namespace, request)
    _ensure_namespace(ctx, res, namespace)
    if is_dry_run(request):
        defaults.apply_defaults(store_key(res), obj, creating=True)
        return _respond_object(request, res, obj, 201)
    for field in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"):
        obj["metadata"].pop(field, None)
    created = _store_create(ctx, res, obj)
    return _respond_object(request, res, created, 201)


def _details(res: Resource, name: str) -> Obj:
    details: Obj = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return details


def _store_write(ctx: ServerContext, res: Resource, obj: Obj, *, status_only: bool = False) -> Obj:
    name = obj.get("metadata", {}).get("name", "")
    try:
        return ctx.store.update(store_key(res), obj, status_only=status_only)
    except Conflict as exc:
        raise ApiError(
            409,
            f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again",
            "Conflict",
            _details(res, name),
        ) from exc


def _store_create(ctx: ServerContext, res: Resource, obj: Obj) -> Obj:
    try:
        return ctx.store.create(store_key(res), obj)
    except AlreadyExists as exc:
        name = obj.get("metadata", {}).get("name", "")
        raise ApiError(409, f'{res.qualified} "{name}" already exists', "AlreadyExists", _details(res, name)) from exc


async def replace_object(
    ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None, name: str, sub: str | None
) -> web.Response:
    body = await read_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
        raise ApiError(400, "the request body must be a JSON object with an object metadata", "BadRequest")
    body_name = (body.get("metadata") or {}).get("name")
    if body_name and body_name != name:
        raise ApiError(400, f"the name of the object ({body_name}) does not match the name on the URL ({name})", "BadRequest")
    body.setdefault("metadata", {})["name"] = name
    current = _get(ctx, res, namespace, name)
    if sub == "status":
        if not isinstance(body.get("status", {}), dict):
            raise ApiError(400, "status must be an object", "BadRequest")
        obj = copy.deepcopy(current)
        obj["status"] = body.get("status", {})
        rv = (body.get("metadata") or {}).get("resourceVersion")
        obj["metadata"]["resourceVersion"] = rv or current["metadata"]["resourceVersion"]
        if is_dry_run(request):
            return _respond_object(request, res, obj)
        return _respond_object(request, res, _store_write(ctx, res, obj, status_only=True))
    return _replace_object(ctx, res, request, body, namespace, current)


def _replace_object(ctx: ServerContext, res: Resource, request: web.Request, body: Obj, namespace: str | None,
                    current: Obj) -> web.Response:
    """Store ``body`` in place of ``current`` (update and patch alike), or only show it on dry run."""
    obj = _prepare(res, body, namespace, request)
    if not obj["metadata"].get("resourceVersion"):
        # An unconditional update (kubectl replace --force style); no precondition.
        obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    if is_dry_run(request):
        return _respond_object(request, res, defaults.apply_defaults(store_key(res), obj))
    return _respond_object(request, res, _store_write(ctx, res, obj))


def apply_patch(kind: str, current: Obj, patch: Any) -> Obj:
    try:
        if kind == "json":
            result = json_patch(current, patch)
        elif kind == "merge":
            if not isinstance(patch, dict):
                raise PatchError("a merge patch must be a JSON object")
            result = json_merge_patch(current, patch)
        elif kind in ("strategic", "apply"):
            result = strategic_merge_patch(current, patch)
        else:
            raise ApiError(415, f"unsupported patch type {kind}", "UnsupportedMediaType")
    except PatchError as exc:
        code = 422 if "test operation failed" in str(exc) else 400
        raise ApiError(code, f"the patch could not be applied: {exc}", "Invalid" if code == 422 else "BadRequest") from exc
    if not isinstance(result, dict):
        raise ApiError(400, "the patch did not produce an object", "BadRequest")
    return result


async def _read_patch(request: web.Request) -> tuple[str, Any]:
    kind = PATCH_TYPES.get(request.content_type or "")
    if kind is None or kind == "unsupported":
        raise ApiError(
            415,
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(t for t, k in PATCH_TYPES.items() if k != 'unsupported')}",
            "UnsupportedMediaType",
        )
    raw = await request.read()
    try:
        body = yaml.safe_load(raw) if kind == "apply" else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise ApiError(400, f"the patch could not be decoded: {str(exc)[:200]}", "BadRequest") from exc
    if body is None:
        raise ApiError(400, "the patch is empty", "BadRequest")
    return kind, body


async def patch_object(
    ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None, name: str, sub: str | None
) -> web.Response:
    kind, patch = await _read_patch(request)
    existing = ctx.store.find(store_key(res), namespace, name)
    if existing is None:
        if kind == "apply" and sub is None:
            # Server-side apply creates what does not exist yet.
            if not isinstance(patch, dict):
                raise ApiError(400, "an apply patch must be an object", "BadRequest")
            patch.setdefault("metadata", {})["name"] = name
            obj = _prepare(res, patch, namespace, request)
            _ensure_namespace(ctx, res, namespace)
            if is_dry_run(request):
                return _respond_object(request, res, defaults.apply_defaults(store_key(res), obj, creating=True), 201)
            return _respond_object(request, res, _store_create(ctx, res, obj), 201)
        raise not_found(res.qualified, name)
    current = typed(res, existing)
    patched = apply_patch(kind, current, patch)
    meta = patched.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise ApiError(400, "metadata must be an object", "BadRequest")
    if meta.get("name") != name:
        raise ApiError(400, "metadata.name cannot be changed by a patch", "BadRequest")
    if sub == "status":
        if not isinstance(patched.get("status", {}), dict):
            raise ApiError(400, "status must be an object", "BadRequest")
        if is_dry_run(request):
            return _respond_object(request, res, patched)
        return _respond_object(request, res, _store_write(ctx, res, patched, status_only=True))
    return _replace_object(ctx, res, request, patched, namespace, current)


# ----------------------------------------------------------------------------- delete
async def _delete_options(request: web.Request) -> Obj:
    body = await read_body(request, allow_empty=True)
    if body is not None and not isinstance(body, dict):
        raise ApiError(400, "DeleteOptions must be an object", "BadRequest")
    options = dict(body or {})
    grace = int_param(request, "gracePeriodSeconds")
    if grace is not None:
        options["gracePeriodSeconds"] = grace
    if request.query.get("propagationPolicy"):
        options["propagationPolicy"] = request.query["propagationPolicy"]
    if request.query.getall("dryRun", []):
        options["dryRun"] = ["All"]
    return options


def _check_preconditions(current: Obj, options: Obj) -> None:
    pre = options.get("preconditions") or {}
    meta = current.get("metadata", {})
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise ApiError(409, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}", "Conflict")
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise ApiError(
            409,
            f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
            "Conflict",
        )


def delete_one(ctx: ServerContext, res: Resource, namespace: str | None, name: str, options: Obj) -> tuple[Obj, bool]:
    """Delete (or start deleting) one object; returns (object, finished)."""
    current = _get(ctx, res, namespace, name)
    _check_preconditions(current, options)
    if options.get("dryRun"):
        return current, True
    key = store_key(res)
    if res.plural == "pods":
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = (current.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        phase = (current.get("status") or {}).get("phase")
        unscheduled = not (current.get("spec") or {}).get("nodeName")
        if int(grace) <= 0 or unscheduled or phase in ("Succeeded", "Failed"):
            return ctx.store.delete(key, namespace, name), True
        return ctx.store.mark_deleting(key, namespace, name, int(grace)), False
    if res.plural == "namespaces":
        _delete_namespace_content(ctx, name)
    if options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True:
        _orphan_dependents(ctx, current)
    return ctx.store.delete(key, namespace, name), True


def _orphan_dependents(ctx: ServerContext, owner: Obj) -> None:
    """``--cascade=orphan``: dependents lose their owner reference, so the GC keeps them."""
    uid = owner["metadata"].get("uid")
    namespace = owner["metadata"].get("namespace", "")

    def drop(obj: Obj) -> None:
        refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
        if refs:
            obj["metadata"]["ownerReferences"] = refs
        else:
            obj["metadata"].pop("ownerReferences", None)

    for resource, ns, name in list(ctx.store.all_keys()):
        if ns != namespace:
            continue
        obj = ctx.store.find(resource, ns, name)
        if obj and any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or []):
            ctx.store.mutate(resource, ns, name, drop)


def _delete_namespace_content(ctx: ServerContext, namespace: str) -> None:
    """Namespace deletion removes everything in it (the namespace controller's job)."""
    for resource, ns, name in list(ctx.store.all_keys()):
        if ns == namespace and ctx.store.find(resource, ns, name) is not None:
            ctx.store.delete(resource, ns, name)


async def delete_object(
    ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None, name: str
) -> web.Response:
    options = await _delete_options(request)
    obj, finished = delete_one(ctx, res, namespace, name, options)
    if res.plural == "pods" or not finished:
        return _respond_object(request, res, obj)
    details = {"name": name, "kind": res.plural, "uid": obj.get("metadata", {}).get("uid", "")}
    if res.group:
        details["group"] = res.group
    return json_response(success_body(details))


async def delete_collection(
    ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None
) -> web.Response:
    options = await _delete_options(request)
    items, rv = _select(ctx, request, res, namespace)
    out = []
    for item in items:
        meta = item["metadata"]
        try:
            obj, _ = delete_one(ctx, res, meta.get("namespace"), meta["name"], options)
        except ApiError as exc:
            if exc.code != 404:
                raise
            continue
        out.append(typed(res, obj))
    return json_response({"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": {"resourceVersion": rv}, "items": out})


# ----------------------------------------------------------------------------- scale
def _scale_of(res: Resource, obj: Obj) -> Obj:
    meta = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = spec.get("selector") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {
            "replicas": status.get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()),
        },
    }


async def scale(
    ctx: ServerContext, request: web.Request, res: Resource, namespace: str | None, name: str
) -> web.Response:
    current = _get(ctx, res, namespace, name)
    scale_obj = _scale_of(res, current)
    if request.method == "GET":
        return json_response(scale_obj)
    if request.method == "PUT":
        wanted = await read_body(request)
    elif request.method == "PATCH":
        kind, patch = await _read_patch(request)
        wanted = apply_patch(kind, scale_obj, patch)
    else:
        raise ApiError(405, f"the server does not allow this method on {res.plural}/scale", "MethodNotAllowed")
    if not isinstance(wanted, dict):
        raise ApiError(400, "a Scale must be an object", "BadRequest")
    replicas = (wanted.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise ApiError(
            422,
            f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas!r}: must be greater than or equal to 0',
            "Invalid",
            {"name": name, "group": "autoscaling", "kind": "Scale",
             "causes": [{"reason": "FieldValueInvalid", "message": "must be greater than or equal to 0", "field": "spec.replicas"}]},
        )
    obj = copy.deepcopy(current)
    obj["spec"]["replicas"] = replicas
    sent_rv = (wanted.get("metadata") or {}).get("resourceVersion")
    obj["metadata"]["resourceVersion"] = sent_rv or current["metadata"]["resourceVersion"]
    if is_dry_run(request):
        return json_response(_scale_of(res, obj))
    updated = _store_write(ctx, res, obj)
    return json_response(_scale_of(res, updated))
