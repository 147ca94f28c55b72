"""Parsing what clients send: bodies in JSON or YAML, query flags, Accept headers."""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from goldgate.sandbox.apiserver import protobuf
from goldgate.sandbox.apiserver.status import ApiError

MAX_BODY = 8 * 1024 * 1024


async def read_body(request: web.Request, *, allow_empty: bool = False) -> Any:
    """Decode a request body; malformed input is a 400, never a server error."""
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "request entity too large", "RequestEntityTooLarge")
    if not raw.strip():
        if allow_empty:
            return None
        raise ApiError(400, "the request body is empty", "BadRequest")
    ctype = request.content_type or ""
    if "protobuf" in ctype:
        try:
            return protobuf.decode(raw)
        except (protobuf.ProtobufError, UnicodeDecodeError) as exc:
            raise ApiError(
                415,
                f"the body of the request was in an unsupported format ({ctype}): {exc}; "
                "use `kubectl apply -f` with a manifest instead",
                "UnsupportedMediaType",
            ) from exc
    if "cbor" in ctype:
        raise ApiError(415, f"unsupported media type {ctype}; send application/json", "UnsupportedMediaType")
    try:
        if "yaml" in ctype:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise ApiError(400, f"the body of the request could not be decoded: {str(exc)[:200]}", "BadRequest") from exc


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true", "yes")


def int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ApiError(400, f"invalid value for {name}: {value!r} (must be an integer)", "BadRequest") from exc


def wants_table(request: web.Request) -> str | None:
    """The Table version asked for in Accept (``v1``/``v1beta1``), or None."""
    accept = request.headers.get("Accept", "")
    for part in accept.split(","):
        fields = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in part.split(";")[1:] if "=" in p}
        if fields.get("as") == "Table" and fields.get("g") == "meta.k8s.io":
            return fields.get("v", "v1")
    return None


def is_dry_run(request: web.Request, body: Any = None) -> bool:
    if request.query.getall("dryRun", []):
        return True
    return isinstance(body, dict) and bool(body.get("dryRun"))
