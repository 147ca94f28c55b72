"""SelfSubjectAccessReview: ``kubectl auth can-i`` asks the RBAC authorizer about itself.

With ``--as=system:serviceaccount:NS:NAME`` (the admin impersonating an account) the
answer is the account's, so a test can state least privilege in kubectl's own words.
The admin may do anything. Non-resource paths (``/healthz``, ``/api``...) are open to
every authenticated user here, as ``system:discovery`` and ``system:public-info-viewer``
make them upstream.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from goldgate.sandbox.apiserver import rbac
from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.request import read_body
from goldgate.sandbox.apiserver.status import ApiError, json_response


async def self_subject_access_review(ctx: ServerContext, request: web.Request,
                                     user: rbac.ServiceAccountUser | None) -> web.Response:
    body = await read_body(request)
    spec: dict[str, Any] = (body or {}).get("spec") or {} if isinstance(body, dict) else {}
    attrs = spec.get("resourceAttributes")
    if attrs is None and spec.get("nonResourceAttributes") is None:
        raise ApiError(422, "spec: Invalid value: resourceAttributes or nonResourceAttributes is required", "Invalid")
    if user is None:
        allowed, reason = True, "the admin credentials are not subject to RBAC"
    elif attrs is None:
        allowed, reason = True, "non-resource paths are open to authenticated users"
    else:
        request_attrs = rbac.Attributes(str(attrs.get("verb", "")), str(attrs.get("group", "")),
                                        str(attrs.get("resource", "")), str(attrs.get("subresource", "")),
                                        str(attrs.get("namespace", "")), str(attrs.get("name", "")))
        allowed = rbac.allowed(ctx.store, user, request_attrs)
        reason = "allowed by a RoleBinding or ClusterRoleBinding" if allowed else ""
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return json_response({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                          "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}, 201)
