"""The three PATCH flavours kubectl and the clients send, applied to plain dicts.

* JSON merge patch (RFC 7386): ``kubectl scale``, ``kubectl patch --type merge``.
* JSON patch (RFC 6902): ``kubectl rollout undo`` replaces ``/spec/template`` this way.
* Strategic merge patch: ``kubectl set image``, ``set env``, ``apply`` and plain
  ``kubectl patch``. Lists of named things (containers, env, ports, volumes...) merge by
  their key instead of being replaced, and kubectl adds directives
  (``$setElementOrder/...``, ``$patch``, ``$retainKeys``, ``$deleteFromPrimitiveList/...``)
  which must be honoured or ``set env`` would, say, reorder or drop variables.

Every failure raises :class:`PatchError`; the API server answers it with 400/422.
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """A patch that cannot be applied (malformed, or a failed ``test`` op)."""


# ----------------------------------------------------------------------------- merge
def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# ----------------------------------------------------------------------------- json patch
def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _split_pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}: must start with '/'")
    return [_unescape(t) for t in path[1:].split("/")]


def _list_index(container: list[Any], segment: str, *, for_add: bool) -> int:
    if for_add and segment == "-":
        return len(container)
    if not segment.isdigit():
        raise PatchError(f"invalid array index {segment!r}")
    idx = int(segment)
    limit = len(container) if for_add else len(container) - 1
    if idx > limit:
        raise PatchError(f"array index {idx} out of range")
    return idx


def _resolve_parent(doc: Any, tokens: list[str]) -> Any:
    cur = doc
    for token in tokens[:-1]:
        if isinstance(cur, dict):
            if token not in cur:
                raise PatchError(f"path segment {token!r} does not exist")
            cur = cur[token]
        elif isinstance(cur, list):
            cur = cur[_list_index(cur, token, for_add=False)]
        else:
            raise PatchError(f"path segment {token!r} is not a container")
    return cur


def _get(doc: Any, path: str) -> Any:
    tokens = _split_pointer(path)
    if not tokens:
        return doc
    parent = _resolve_parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path {path!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_list_index(parent, last, for_add=False)]
    raise PatchError(f"path {path!r} does not exist")


def _remove(doc: Any, path: str) -> Any:
    tokens = _split_pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _resolve_parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path {path!r} does not exist")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_list_index(parent, last, for_add=False))
    raise PatchError(f"path {path!r} does not exist")


def _add(doc: Any, path: str, value: Any, *, replace: bool = False) -> Any:
    tokens = _split_pointer(path)
    if not tokens:
        return copy.deepcopy(value)
    parent = _resolve_parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"path {path!r} does not exist")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if replace:
            parent[_list_index(parent, last, for_add=False)] = copy.deepcopy(value)
        else:
            parent.insert(_list_index(parent, last, for_add=True), copy.deepcopy(value))
    else:
        raise PatchError(f"path {path!r}: parent is not a container")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add/remove/replace/move/copy/test, applied atomically to a copy."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if not isinstance(path, str):
            raise PatchError("JSON patch path must be a string")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {kind!r} on {path!r} is missing 'value'")
        if kind == "add":
            doc = _add(doc, path, op["value"])
        elif kind == "replace":
            doc = _add(doc, path, op["value"], replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind in ("move", "copy"):
            source = op.get("from")
            if not isinstance(source, str):
                raise PatchError(f"operation {kind!r} needs 'from'")
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f"test operation failed at {path!r}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


# ----------------------------------------------------------------------------- strategic
#: Merge keys of the lists that merge instead of being replaced (patchMergeKey).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "addresses": "type",
    "taints": "key",
    "readinessGates": "conditionType",
}
#: Lists of scalars whose patch strategy is merge (items are added, not replaced).
MERGE_PRIMITIVE_LISTS = {"finalizers"}


def _merge_key(field: str, parents: tuple[str, ...]) -> str | None:
    """The merge key of list ``field``; ports depend on where they live."""
    if field == "ports":
        if parents and parents[-1] in ("containers", "initContainers", "ephemeralContainers"):
            return "containerPort"
        if parents == ("spec",):
            return "port"  # Service.spec.ports
        return None
    if field == "addresses" and "subsets" in parents:
        return None  # Endpoints addresses are replaced
    return MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch as the API server does for built-in kinds."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    return _merge_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch, ())


def _merge_map(original: dict[str, Any], patch: dict[str, Any], parents: tuple[str, ...]) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return {}
    if directive is not None:
        raise PatchError(f"unknown $patch directive {directive!r}")

    retain = patch.get("$retainKeys")
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            if isinstance(original.get(field), list):
                original[field] = [v for v in original[field] if v not in value]

    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict):
            if value.get("$patch") == "delete":
                original.pop(key, None)
                continue
            original[key] = _merge_map(current if isinstance(current, dict) else {}, value, (*parents, key))
        elif isinstance(value, list):
            original[key] = _merge_list(current if isinstance(current, list) else [], value, key, parents)
        else:
            original[key] = copy.deepcopy(value)

    for field, order in orders.items():
        if isinstance(original.get(field), list):
            original[field] = _apply_order(original[field], order, _merge_key(field, parents))

    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError("$retainKeys must be a list")
        original = {k: v for k, v in original.items() if k in retain}
    return original


def _merge_list(original: list[Any], patch: list[Any], field: str, parents: tuple[str, ...]) -> list[Any]:
    key = _merge_key(field, parents)
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if field in MERGE_PRIMITIVE_LISTS and all(not isinstance(i, dict | list) for i in patch):
        merged = list(original)
        merged.extend(i for i in patch if i not in merged)
        return merged
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [copy.deepcopy(i) for i in patch]

    result = [copy.deepcopy(i) for i in original]
    for item in patch:
        if key not in item:
            raise PatchError(f"map in list {field!r} is missing its merge key {key!r}")
        position = next(
            (n for n, existing in enumerate(result) if isinstance(existing, dict) and existing.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                result.pop(position)
            continue
        if position is None:
            result.append(_merge_map({}, item, (*parents, field)))
        else:
            result[position] = _merge_map(result[position], item, (*parents, field))
    return result


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Honour ``$setElementOrder``: listed elements first, in the listed order."""

    def ident(item: Any) -> Any:
        if key and isinstance(item, dict):
            return item.get(key)
        return item

    wanted = [ident(o) for o in order]
    ranked = {value: n for n, value in enumerate(wanted) if not isinstance(value, dict | list)}
    listed = [i for i in items if not isinstance(ident(i), dict | list) and ident(i) in ranked]
    rest = [i for i in items if i not in listed]
    listed.sort(key=lambda i: ranked[ident(i)])
    return listed + rest
