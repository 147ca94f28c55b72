"""Admission checks that turn bad manifests into 422 Invalid instead of bad state.

Only what would otherwise corrupt the sandbox or silently differ from a real cluster
is checked: names, required fields, label syntax, a Deployment selector that does
not select its own template, container and port sanity. Each failure becomes one
``cause`` of the Status, with the field path as kubectl prints it.
"""

from __future__ import annotations

import re
from typing import Any

from goldgate.sandbox.apiserver.resources import Resource
from goldgate.sandbox.apiserver.status import ApiError
from goldgate.sandbox.selectors import SelectorError, compile_label_selector, matches

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")

#: Kinds whose names must be DNS-1123 labels (no dots) or DNS-1035 labels.
_LABEL_NAMED = {"namespaces"}
_DNS1035_NAMED = {"services"}


class Causes:
    """Collects field errors; ``raise_if_any`` builds the 422 Status."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, reason: str, message: str) -> None:
        self.items.append({"reason": reason, "message": message, "field": field})

    def required(self, field: str) -> None:
        self.add(field, "FieldValueRequired", "Required value")

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.add(field, "FieldValueInvalid", f"Invalid value: {value!r}: {detail}")

    def raise_if_any(self, res: Resource, name: str) -> None:
        if not self.items:
            return
        summary = ", ".join(f"{c['field']}: {c['message']}" for c in self.items)
        raise ApiError(
            422,
            f'{res.kind_qualified} "{name}" is invalid: {summary}',
            "Invalid",
            {"name": name, "group": res.group, "kind": res.kind, "causes": self.items},
        )


def _check_name(res: Resource, name: str, causes: Causes) -> None:
    if not name:
        causes.add("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")
        return
    if len(name) > (63 if res.plural in _LABEL_NAMED | _DNS1035_NAMED else 253):
        causes.invalid("metadata.name", name, "must be no more than 63 characters")
    if res.plural in _DNS1035_NAMED:
        if not _DNS1035_LABEL.match(name):
            causes.invalid(
                "metadata.name", name,
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character",
            )
    elif res.plural in _LABEL_NAMED:
        if not _DNS1123_LABEL.match(name):
            causes.invalid(
                "metadata.name", name,
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character",
            )
    elif not _DNS1123_SUBDOMAIN.match(name):
        causes.invalid(
            "metadata.name", name,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character",
        )


def _check_labels(labels: Any, field: str, causes: Causes) -> None:
    if labels is None:
        return
    if not isinstance(labels, dict):
        causes.invalid(field, labels, "must be a map of strings")
        return
    for key, value in labels.items():
        name = str(key).rsplit("/", 1)[-1]
        if not _LABEL_NAME.match(name) or len(name) > 63:
            causes.invalid(f"{field}", key, "name part must consist of alphanumeric characters, '-', '_' or '.'")
        if not isinstance(value, str) or not _LABEL_VALUE.match(value) or len(value) > 63:
            causes.invalid(f"{field}", value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'")


def _check_pod_spec(spec: Any, field: str, causes: Causes) -> None:
    if not isinstance(spec, dict):
        causes.required(field)
        return
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        causes.required(f"{field}.containers")
        return
    seen: set[str] = set()
    for n, c in enumerate(containers):
        path = f"{field}.containers[{n}]"
        if not isinstance(c, dict):
            causes.invalid(path, c, "must be an object")
            continue
        name = c.get("name")
        if not name:
            causes.required(f"{path}.name")
        elif not isinstance(name, str) or not _DNS1123_LABEL.match(name):
            causes.invalid(f"{path}.name", name, "a lowercase RFC 1123 label is required")
        elif name in seen:
            causes.add(f"{path}.name", "FieldValueDuplicate", f"Duplicate value: {name!r}")
        else:
            seen.add(name)
        if not c.get("image"):
            causes.required(f"{path}.image")
        for m, port in enumerate(c.get("ports") or []):
            value = port.get("containerPort") if isinstance(port, dict) else None
            if not isinstance(value, int) or not 0 < value < 65536:
                causes.invalid(f"{path}.ports[{m}].containerPort", value, "must be between 1 and 65535, inclusive")
        for m, env in enumerate(c.get("env") or []):
            env_name = env.get("name") if isinstance(env, dict) else None
            if not env_name:
                causes.required(f"{path}.env[{m}].name")
            elif not _ENV_NAME.match(str(env_name)):
                causes.invalid(f"{path}.env[{m}].name", env_name, "a valid environment variable name is required")


def _check_replicas(spec: dict[str, Any], causes: Causes) -> None:
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0):
        causes.invalid("spec.replicas", replicas, "must be greater than or equal to 0")


def _check_workload(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    _check_replicas(spec, causes)
    selector = spec.get("selector")
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.required("spec.template")
        return
    labels = (template.get("metadata") or {}).get("labels") or {}
    _check_labels(labels, "spec.template.metadata.labels", causes)
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.required("spec.selector")
    else:
        try:
            reqs = compile_label_selector(selector)
        except (SelectorError, KeyError, TypeError) as exc:
            causes.invalid("spec.selector", selector, str(exc))
        else:
            if not matches(reqs, labels):
                causes.invalid(
                    "spec.template.metadata.labels", labels, "`selector` does not match template `labels`"
                )
    _check_pod_spec(template.get("spec"), "spec.template.spec", causes)
    strategy = spec.get("strategy") or {}
    if isinstance(strategy, dict):
        stype = strategy.get("type", "RollingUpdate")
        if stype not in ("RollingUpdate", "Recreate"):
            causes.add("spec.strategy.type", "FieldValueNotSupported", f'Unsupported value: "{stype}": supported values: "Recreate", "RollingUpdate"')
        rolling = strategy.get("rollingUpdate") or {}
        if stype == "Recreate" and rolling:
            causes.add("spec.strategy.rollingUpdate", "FieldValueForbidden", "Forbidden: may not be specified when strategy `type` is 'Recreate'")
        if rolling.get("maxSurge") in (0, "0%") and rolling.get("maxUnavailable") in (0, "0%"):
            causes.invalid("spec.strategy.rollingUpdate.maxUnavailable", 0, "may not be 0 when `maxSurge` is 0")


def _check_service(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    stype = spec.get("type", "ClusterIP")
    ports = spec.get("ports")
    if stype != "ExternalName" and not ports and spec.get("clusterIP") != "None":
        causes.required("spec.ports")
    for n, port in enumerate(ports or []):
        value = port.get("port") if isinstance(port, dict) else None
        if not isinstance(value, int) or not 0 < value < 65536:
            causes.invalid(f"spec.ports[{n}].port", value, "must be between 1 and 65535, inclusive")


def _check_configmap(obj: dict[str, Any], causes: Causes) -> None:
    for field in ("data", "binaryData"):
        value = obj.get(field)
        if value is not None and not isinstance(value, dict):
            causes.invalid(field, value, "must be a map")
    for key, value in (obj.get("data") or {}).items():
        if not isinstance(value, str):
            causes.invalid(f"data[{key}]", value, "must be a string")


def validate(res: Resource, obj: Any, *, namespace: str | None = None) -> None:
    """Raise 422 Invalid (or 400 for a wrong kind/apiVersion) when ``obj`` is unacceptable."""
    if not isinstance(obj, dict):
        raise ApiError(400, "the request body must be a JSON object", "BadRequest")
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise ApiError(400, "metadata must be an object", "BadRequest")
    meta = meta or {}
    for section in ("spec", "status"):
        if section in obj and obj[section] is not None and not isinstance(obj[section], dict):
            raise ApiError(400, f"{section} must be an object, not {type(obj[section]).__name__}", "BadRequest")
    name = str(meta.get("name") or meta.get("generateName") or "")
    kind = obj.get("kind")
    if kind and kind != res.kind:
        raise ApiError(400, f"the API version in the data ({obj.get('apiVersion')}) kind {kind} does not match the expected kind {res.kind}", "BadRequest")
    causes = Causes()
    if meta.get("name"):
        _check_name(res, str(meta["name"]), causes)
    elif not meta.get("generateName"):
        _check_name(res, "", causes)
    if res.namespaced and namespace and meta.get("namespace") not in (None, "", namespace):
        causes.invalid("metadata.namespace", meta.get("namespace"), "does not match the namespace of the request")
    _check_labels(meta.get("labels"), "metadata.labels", causes)
    annotations = meta.get("annotations")
    if annotations is not None and (
        not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values())
    ):
        causes.invalid("metadata.annotations", "...", "annotation values must be strings")
    if res.plural == "pods":
        _check_pod_spec(obj.get("spec"), "spec", causes)
    elif res.plural in ("deployments", "replicasets"):
        _check_workload(obj, causes)
    elif res.plural == "services":
        _check_service(obj, causes)
    elif res.plural == "configmaps":
        _check_configmap(obj, causes)
    causes.raise_if_any(res, name)
