"""Discovery and OpenAPI documents: how kubectl learns what the server offers.

kubectl first asks for aggregated discovery; a plain ``application/json`` answer makes
it fall back to the legacy documents served here (``/api``, ``/apis``, one resource
list per group/version). The OpenAPI v3 documents are deliberately minimal: they only
declare, per kind, a PATCH operation accepting the ``fieldValidation`` parameter, which
is what kubectl checks before sending ``fieldValidation=Strict`` instead of insisting on
client-side schema validation. They leave out the strategic-merge media type, so
``kubectl apply`` computes its patches from its built-in types.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from goldgate.sandbox.apiserver.resources import (
    METRICS_GROUP,
    METRICS_VERSION,
    RESOURCES,
    Resource,
    group_versions,
    in_group_version,
)

Obj = dict[str, Any]

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.0-goldgate-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "log": ["get"],
    "exec": ["create", "get"],
    "token": ["create"],
    "proxy": ["create", "delete", "get", "patch", "update"],
}


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": entries, "preferredVersion": entries[0]}


def all_groups() -> dict[str, list[str]]:
    groups = group_versions()
    groups[METRICS_GROUP] = [METRICS_VERSION]
    return groups


def api_group_list() -> Obj:
    groups = [_group(name, versions) for name, versions in all_groups().items()]
    for g in groups:
        g.pop("kind")
        g.pop("apiVersion")
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> Obj | None:
    versions = all_groups().get(name)
    return _group(name, versions) if versions else None


def _resource_entries(res: Resource) -> list[Obj]:
    main: Obj = {
        "name": res.plural,
        "singularName": res.singular_name,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        main["shortNames"] = list(res.short_names)
    if res.categories:
        main["categories"] = list(res.categories)
    out = [main]
    for sub in res.subresources:
        entry: Obj = {
            "name": f"{res.plural}/{sub}",
            "singularName": "",
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": _SUBRESOURCE_VERBS[sub],
        }
        if sub == "scale":
            entry.update(group="autoscaling", version="v1", kind="Scale")
        elif sub == "exec":
            entry["kind"] = "PodExecOptions"
        elif sub == "proxy":
            entry["kind"] = "NodeProxyOptions"
        elif sub == "token":
            entry.update(group="authentication.k8s.io", version="v1", kind="TokenRequest")
        out.append(entry)
    return out


def resource_list(group: str, version: str) -> Obj | None:
    if group == METRICS_GROUP and version == METRICS_VERSION:
        resources = [
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ]
    else:
        members = in_group_version(group, version)
        if not members:
            return None
        resources = [e for r in members for e in _resource_entries(r)]
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


# ----------------------------------------------------------------------------- OpenAPI v3
def _openapi_gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def openapi_v3_document(group: str, version: str) -> Obj | None:
    members = in_group_version(group, version)
    if not members:
        return None
    paths: Obj = {}
    for res in members:
        prefix = f"/{_openapi_gv_path(group, version)}"
        item = (
            f"{prefix}/namespaces/{{namespace}}/{res.plural}/{{name}}"
            if res.namespaced
            else f"{prefix}/{res.plural}/{{name}}"
        )
        gvk = {"group": group, "version": version, "kind": res.kind}
        params = [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        ]
        body = {"content": {"application/merge-patch+json": {"schema": {"type": "object"}}}, "required": True}
        paths[item] = {
            "patch": {
                "operationId": f"patch{res.kind}",
                "parameters": params,
                "requestBody": body,
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
            },
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }


def openapi_v3_index() -> Obj:
    paths: Obj = {}
    seen = set()
    for res in RESOURCES:
        key = (res.group, res.version)
        if key in seen:
            continue
        seen.add(key)
        doc = openapi_v3_document(res.group, res.version)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
        rel = _openapi_gv_path(res.group, res.version)
        paths[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={digest}"}
    return {"paths": paths}
