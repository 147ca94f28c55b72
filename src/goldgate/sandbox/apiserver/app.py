"""The aiohttp application: URL dispatch, authentication and error translation.

One catch-all route parses Kubernetes paths itself (``/api/v1/namespaces/NS/pods/NAME/log``,
``/apis/GROUP/VERSION/...``) because the shapes are regular and a route table per kind
would only duplicate :mod:`resources`. The middleware guarantees that whatever goes
wrong inside a handler reaches the client as a ``Status`` — never a crash or an HTML page.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from goldgate.sandbox import satoken
from goldgate.sandbox.apiserver import (
    access,
    discovery,
    metrics,
    pods,
    rbac,
    rest,
    summary,
    tokens,
    watch,
)
from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.patch import PatchError
from goldgate.sandbox.apiserver.request import flag
from goldgate.sandbox.apiserver.resources import METRICS_GROUP, METRICS_VERSION, Resource, lookup
from goldgate.sandbox.apiserver.status import ApiError, error_response, json_response
from goldgate.sandbox.selectors import SelectorError
from goldgate.sandbox.store import StoreError

log = logging.getLogger(__name__)

CTX_KEY: web.AppKey[ServerContext] = web.AppKey("goldgate_sandbox_ctx", ServerContext)
_OPEN_PATHS = {"/healthz", "/readyz", "/livez", "/version"}
#: The authenticated user: absent for the admin token, a ServiceAccountUser for a pod's account.
USER_KEY: web.RequestKey[rbac.ServiceAccountUser] = web.RequestKey("goldgate_sandbox_user", rbac.ServiceAccountUser)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except StoreError as exc:
        return error_response(ApiError(exc.code, str(exc), exc.reason))
    except (SelectorError, PatchError) as exc:
        return error_response(ApiError(400, str(exc), "BadRequest"))
    except web.HTTPException:
        raise
    except (ConnectionError, TimeoutError) as exc:
        log.debug("client connection ended: %s", exc)
        raise
    except Exception as exc:  # the server must answer, whatever the bug
        log.exception("internal error on %s %s", request.method, request.path)
        return error_response(ApiError(500, f"internal error: {type(exc).__name__}: {exc}", "InternalError"))


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    if ctx.token and request.path not in _OPEN_PATHS:
        header = request.headers.get("Authorization", "")
        sent = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(sent.encode(), ctx.token.encode()):
            request[USER_KEY] = _service_account(ctx, sent)
        elif request.headers.get("Impersonate-User"):  # kubectl --as: only the admin may
            request[USER_KEY] = _impersonated(request.headers["Impersonate-User"])
        elif request.headers.get("Impersonate-Group"):
            raise ApiError(403, "the sandbox impersonates ServiceAccounts only (--as=system:serviceaccount:NS:NAME)",
                           "Forbidden")
    elif request.headers.get("Impersonate-User"):
        request[USER_KEY] = _impersonated(request.headers["Impersonate-User"])
    return await handler(request)


def _impersonated(username: str) -> rbac.ServiceAccountUser:
    parts = username.split(":")
    if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"] or not all(parts[2:]):
        raise ApiError(403, f'the sandbox impersonates ServiceAccounts only (system:serviceaccount:NS:NAME), '
                            f'not "{username}"', "Forbidden")
    return rbac.ServiceAccountUser(parts[2], parts[3])


def _service_account(ctx: ServerContext, token: str) -> rbac.ServiceAccountUser:
    """A pod's account token, valid while its ServiceAccount exists; 401 otherwise."""
    who = satoken.verify(ctx.sa_key, token) if ctx.sa_key and token else None
    if who is None or ctx.store.find("serviceaccounts", who[0], who[1]) is None:
        raise ApiError(401, "Unauthorized", "Unauthorized")
    return rbac.ServiceAccountUser(*who)


def _authorize(request: web.Request, attrs: rbac.Attributes) -> None:
    rbac.authorize(request.app[CTX_KEY].store, request.get(USER_KEY), attrs)


def create_app(ctx: ServerContext) -> web.Application:
    app = web.Application(middlewares=[_errors, _auth], client_max_size=8 * 1024 * 1024)
    app[CTX_KEY] = ctx
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


async def _dispatch(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    parts = [p for p in request.path.split("/") if p]
    method = request.method
    if not parts:
        return json_response({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]})
    head = parts[0]
    if head in ("healthz", "livez", "readyz") and len(parts) <= 2:
        if head == "readyz" and not ctx.ready:
            return web.Response(status=500, text="[-]sandbox not started yet\nreadyz check failed", content_type="text/plain")
        return web.Response(text="ok", content_type="text/plain")
    if parts == ["version"]:
        return json_response(discovery.KUBERNETES_VERSION)
    if head == "openapi":
        return _openapi(parts)
    if head == "api":
        if len(parts) == 1:
            return json_response(discovery.api_versions(ctx.server_address))
        return await _group_version(ctx, request, "", parts[1], parts[2:], method)
    if head == "apis":
        if len(parts) == 1:
            return json_response(discovery.api_group_list())
        if len(parts) == 2:
            group = discovery.api_group(parts[1])
            if group is None:
                raise ApiError(404, "the server could not find the requested resource", "NotFound")
            return json_response(group)
        return await _group_version(ctx, request, parts[1], parts[2], parts[3:], method)
    raise ApiError(404, "the server could not find the requested resource", "NotFound")


def _openapi(parts: list[str]) -> web.Response:
    if parts[1:2] == ["v3"]:
        if len(parts) == 2:
            return json_response(discovery.openapi_v3_index())
        rest_parts = parts[2:]
        if rest_parts[:1] == ["api"] and len(rest_parts) == 2:
            doc = discovery.openapi_v3_document("", rest_parts[1])
        elif rest_parts[:1] == ["apis"] and len(rest_parts) == 3:
            doc = discovery.openapi_v3_document(rest_parts[1], rest_parts[2])
        else:
            doc = None
        if doc is not None:
            return json_response(doc)
    raise ApiError(404, "the server could not find the requested resource", "NotFound")


async def _group_version(
    ctx: ServerContext, request: web.Request, group: str, version: str, rest_parts: list[str], method: str
) -> web.StreamResponse:
    if not rest_parts:
        body = discovery.resource_list(group, version)
        if body is None:
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        return json_response(body)
    if group == METRICS_GROUP and version == METRICS_VERSION:
        _authorize(request, _metrics_attributes(rest_parts, method))
        return _metrics(ctx, request, rest_parts, method)

    if group == "" and rest_parts[0] == "nodes" and len(rest_parts) >= 3 and rest_parts[2] == "proxy":
        return await _node_proxy(request, rest_parts[1], rest_parts[3:], method)

    namespace: str | None = None
    if rest_parts[0] == "namespaces" and len(rest_parts) >= 3 and lookup(group, version, rest_parts[2]):
        namespace = rest_parts[1]
        rest_parts = rest_parts[2:]
    res = lookup(group, version, rest_parts[0])
    if res is None:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if namespace is not None and not res.namespaced:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    name = rest_parts[1] if len(rest_parts) > 1 else None
    sub = rest_parts[2] if len(rest_parts) > 2 else None
    if len(rest_parts) > 3 or (sub is not None and sub not in res.subresources):
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if res.namespaced and name is not None and namespace is None:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    return await _verb(ctx, request, res, namespace, name, sub, method)


async def _verb(
    ctx: ServerContext,
    request: web.Request,
    res: Resource,
    namespace: str | None,
    name: str | None,
    sub: str | None,
    method: str,
) -> web.StreamResponse:
    if res.plural == "selfsubjectaccessreviews" and method == "POST":  # every user may ask about itself
        return await access.self_subject_access_review(ctx, request, request.get(USER_KEY))
    verb = rbac.request_verb(method, name is not None, flag(request, "watch"))
    if sub == "exec" and method == "GET":
        verb = "create"  # exec over a GET upgrade is authorized as create, like upstream
    named = name or rbac.selector_name(request.query.get("fieldSelector", "")) if verb in rbac.COLLECTION_VERBS else name
    _authorize(request, rbac.Attributes(verb, res.group, res.plural, sub or "", namespace or "", named or ""))
    if sub == "token" and method == "POST":
        return await tokens.token_request(ctx, request, namespace or "", name or "")
    if name is None:
        if method == "GET":
            if flag(request, "watch"):
                return await watch.watch(ctx, request, res, namespace)
            return rest.list_objects(ctx, request, res, namespace)
        if method == "POST":
            if res.namespaced and namespace is None:
                raise ApiError(405, "create requires a namespace in the URL", "MethodNotAllowed")
            return await rest.create_object(ctx, request, res, namespace)
        if method == "DELETE":
            return await rest.delete_collection(ctx, request, res, namespace)
        raise ApiError(405, f"the server does not allow this method on the requested resource ({method})", "MethodNotAllowed")
    if sub == "log" and method == "GET":
        return await pods.logs(ctx, request, namespace or "", name)
    if sub == "exec" and method in ("GET", "POST"):
        return await pods.exec_(ctx, request, namespace or "", name)
    if sub == "scale":
        return await rest.scale(ctx, request, res, namespace, name)
    if sub in ("log", "exec"):
        raise ApiError(405, f"the server does not allow this method on {res.plural}/{sub}", "MethodNotAllowed")
    if method == "GET":
        return rest.get_object(ctx, request, res, namespace, name)
    if method == "PUT":
        return await rest.replace_object(ctx, request, res, namespace, name, sub)
    if method == "PATCH":
        return await rest.patch_object(ctx, request, res, namespace, name, sub)
    if method == "DELETE" and sub is None:
        return await rest.delete_object(ctx, request, res, namespace, name)
    raise ApiError(405, f"the server does not allow this method on the requested resource ({method})", "MethodNotAllowed")


async def _node_proxy(request: web.Request, node: str, path: list[str], method: str) -> web.Response:
    """The kubelet behind ``nodes/NODE/proxy``: only its Summary API (``stats/summary``)."""
    _authorize(request, rbac.Attributes(rbac.request_verb(method, True, False), "", "nodes", "proxy", "", node))
    if path != ["stats", "summary"]:
        raise ApiError(404, "the sandbox kubelet serves only /stats/summary", "NotFound")
    if method != "GET":
        raise ApiError(405, "the Summary API is read-only", "MethodNotAllowed")
    return json_response(await summary.summary(request.app[CTX_KEY], node))


def _metrics_attributes(parts: list[str], method: str) -> rbac.Attributes:
    namespace = parts[1] if len(parts) >= 3 and parts[0] == "namespaces" else ""
    tail = parts[2:] if namespace else parts
    resource = tail[0] if tail else ""
    name = tail[1] if len(tail) > 1 else ""
    return rbac.Attributes(rbac.request_verb(method, bool(name), False), METRICS_GROUP, resource, "", namespace, name)


def _metrics(ctx: ServerContext, request: web.Request, parts: list[str], method: str) -> web.Response:
    if method != "GET":
        raise ApiError(405, "the metrics API is read-only", "MethodNotAllowed")
    selector = request.query.get("labelSelector")
    if parts == ["nodes"]:
        return json_response(metrics.node_metrics_list(ctx, selector))
    if len(parts) == 2 and parts[0] == "nodes":
        return json_response(metrics.node_metrics(ctx, parts[1]))
    if parts == ["pods"]:
        return json_response(metrics.pod_metrics_list(ctx, None, selector))
    if len(parts) == 3 and parts[0] == "namespaces" and parts[2] == "pods":
        return json_response(metrics.pod_metrics_list(ctx, parts[1], selector))
    if len(parts) == 4 and parts[0] == "namespaces" and parts[2] == "pods":
        return json_response(metrics.pod_metrics(ctx, parts[1], parts[3]))
    raise ApiError(404, "the server could not find the requested resource", "NotFound")
