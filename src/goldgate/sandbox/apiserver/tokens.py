"""``serviceaccounts/NAME/token`` (TokenRequest): what ``kubectl create token`` calls.

The token is the one the kubelet mounts into the account's pods (goldgate.sandbox.satoken),
so a test can act as a pod's account with the real kubectl (``--token``) and see exactly
what the account's Roles allow.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from goldgate.sandbox import satoken
from goldgate.sandbox.apiserver.context import ServerContext
from goldgate.sandbox.apiserver.request import read_body
from goldgate.sandbox.apiserver.status import ApiError, json_response, not_found

#: Upstream's default lifetime of a requested token (seconds).
DEFAULT_EXPIRATION_S = 3600


async def token_request(ctx: ServerContext, request: web.Request, namespace: str, name: str) -> web.Response:
    if ctx.store.find("serviceaccounts", namespace, name) is None:
        raise not_found("serviceaccounts", name)
    if ctx.sa_key is None:
        raise ApiError(503, "this API server issues no ServiceAccount tokens", "ServiceUnavailable")
    try:  # kubectl sends protobuf; the spec only tunes lifetime and audiences
        body = await read_body(request, allow_empty=True)
    except ApiError:
        body = None
    spec = dict(body.get("spec") or {}) if isinstance(body, dict) else {}
    seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION_S)
    spec["expirationSeconds"] = seconds
    spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return json_response({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
        "status": {"token": satoken.issue(ctx.sa_key, namespace, name),
                   "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }, 201)
