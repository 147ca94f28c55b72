"""Just enough of the Kubernetes protobuf encoding for ``kubectl create configmap|secret|namespace``.

kubectl's typed clients send built-in objects as ``application/vnd.kubernetes.protobuf``
and never fall back to JSON, so ``kubectl create secret generic ...`` would fail
without this. Only the small kinds those generators produce are decoded (ObjectMeta,
ConfigMap, Secret, Namespace, ServiceAccount, SelfSubjectAccessReview); anything else gets a clear 415.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """The body is not a protobuf object this server can decode."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs; length-delimited values stay bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a string")
    return value.decode()


def _map_entry(value: int | bytes, *, as_bytes: bool = False) -> tuple[str, Any]:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a map entry")
    key, val = "", b""
    for number, item in fields(value):
        if number == 1:
            key = _text(item)
        elif number == 2 and isinstance(item, bytes):
            val = item
    return key, (base64.b64encode(val).decode() if as_bytes else val.decode())


def _object_meta(data: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    names = {1: "name", 2: "generateName", 3: "namespace", 6: "resourceVersion"}
    for number, value in fields(data):
        if number in names:
            meta[names[number]] = _text(value)
        elif number == 11:
            k, v = _map_entry(value)
            meta.setdefault("labels", {})[k] = v
        elif number == 12:
            k, v = _map_entry(value)
            meta.setdefault("annotations", {})[k] = v
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(value))
    return meta


def _configmap(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2:
            k, v = _map_entry(value)
            obj.setdefault("data", {})[k] = v
        elif number == 3:
            k, v = _map_entry(value, as_bytes=True)
            obj.setdefault("binaryData", {})[k] = v
        elif number == 4:
            obj["immutable"] = bool(value)
    return obj


def _secret(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2:
            k, v = _map_entry(value, as_bytes=True)
            obj.setdefault("data", {})[k] = v
        elif number == 3:
            obj["type"] = _text(value)
        elif number == 4:
            k, v = _map_entry(value)
            obj.setdefault("stringData", {})[k] = v
        elif number == 5:
            obj["immutable"] = bool(value)
    return obj


def _metadata_only(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
    return obj


_RESOURCE_ATTRIBUTES = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource",
                        7: "name"}


def _access_review(data: bytes) -> dict[str, Any]:
    """SelfSubjectAccessReview (``kubectl auth can-i``): spec.resourceAttributes / nonResourceAttributes."""
    obj: dict[str, Any] = {"spec": {}}
    for number, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2 and isinstance(value, bytes):
            for sub, item in fields(value):
                if sub == 1 and isinstance(item, bytes):
                    obj["spec"]["resourceAttributes"] = {
                        _RESOURCE_ATTRIBUTES[n]: _text(v) for n, v in fields(item) if n in _RESOURCE_ATTRIBUTES}
                elif sub == 2 and isinstance(item, bytes):
                    obj["spec"]["nonResourceAttributes"] = {
                        {1: "path", 2: "verb"}[n]: _text(v) for n, v in fields(item) if n in (1, 2)}
    return obj


_DECODERS: dict[tuple[str, str], Callable[[bytes], dict[str, Any]]] = {
    ("v1", "ConfigMap"): _configmap,
    ("v1", "Secret"): _secret,
    ("v1", "Namespace"): _metadata_only,
    ("v1", "ServiceAccount"): _metadata_only,
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): _access_review,
}


def decode(body: bytes) -> dict[str, Any]:
    """Decode a ``k8s\\0``-prefixed protobuf envelope into the JSON shape of the object."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf envelope")
    api_version = kind = ""
    raw = b""
    for number, value in fields(body[len(MAGIC) :]):
        if number == 1 and isinstance(value, bytes):
            for sub, item in fields(value):
                if sub == 1:
                    api_version = _text(item)
                elif sub == 2:
                    kind = _text(item)
        elif number == 2 and isinstance(value, bytes):
            raw = value
    decoder = _DECODERS.get((api_version, kind))
    if decoder is None:
        raise ProtobufError(f"{kind or 'this kind'} ({api_version or '?'}) cannot be sent as protobuf to the sandbox")
    obj = decoder(raw)
    obj["apiVersion"], obj["kind"] = api_version, kind
    if obj.get("stringData"):
        # As the real server does: stringData is merged into data and not stored.
        for key, value in obj.pop("stringData").items():
            obj.setdefault("data", {})[key] = base64.b64encode(value.encode()).decode()
    return obj
