"""Kubernetes ``Status`` answers: every error leaves the server in this shape.

kubectl and the Python client decode the body of any non-2xx answer as a Status and
print its ``message``; ``reason`` and ``code`` decide retries and exit codes, so they
follow the upstream meaning exactly (409 AlreadyExists vs Conflict, 422 Invalid...).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

_REASON_BY_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
    504: "Timeout",
}


class ApiError(Exception):
    """Raised anywhere in a handler; the middleware turns it into a Status answer."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASON_BY_CODE.get(code, "Unknown")
        self.details = details


def status_body(
    code: int, message: str, reason: str | None = None, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASON_BY_CODE.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def success_body(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


def error_response(err: ApiError) -> web.Response:
    return json_response(status_body(err.code, err.message, err.reason, err.details), err.code)


def json_response(body: Any, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type=content_type,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")


def not_found(qualified: str, name: str) -> ApiError:
    return ApiError(404, f'{qualified} "{name}" not found', "NotFound", {"name": name, "kind": qualified.split(".")[0]})
