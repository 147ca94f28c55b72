"""The Kubernetes mutations of a release: roll out, roll back, scale, switch, split traffic.

Each function is one thing an operator would type (``kubectl set image``, ``kubectl
rollout undo``, ``kubectl scale``, ``kubectl patch service``…), done through the official
client with the run's timeouts, behind :func:`goldgate.actions.base.perform` — so each
asks the safety policy first and is recorded, with its outcome, as evidence.

Examples::

    release(kube, safety, "trading", "trading-bot", "trading-bot", image="trading-bot:v1.2.0")
    rollout_undo(kube, safety, "trading", "trading-bot")        # back to the previous revision
    switch_selector(kube, safety, "trading", "trading-bot", {"app": "trading-bot", "slot": "green"})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client

from goldgate.actions.base import ActionResult, SafetyLike, perform
from goldgate.actions.manifests import (
    CHANGE_CAUSE,
    canary_split,
    container_patch,
    previous_revision,
)
from goldgate.probes.kubernetes import KubeClients, call

__all__ = [
    "create_deployment",
    "create_service",
    "delete_deployment",
    "delete_pod",
    "delete_service",
    "release",
    "rollout_undo",
    "scale",
    "set_canary_weight",
    "set_config_value",
    "set_ingress_canary_weight",
    "set_progress_deadline",
    "set_route_weights",
    "set_selector_labels",
    "switch_selector",
]

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _as_dict(kube: KubeClients, obj: Any) -> dict[str, Any]:
    return kube.api_client.sanitize_for_serialization(obj)


def read_deployment(kube: KubeClients, namespace: str, name: str) -> dict[str, Any]:
    return _as_dict(kube, call(kube, f"read deployment {namespace}/{name}",
                               kube.apps.read_namespaced_deployment, name, namespace))


def release(kube: KubeClients, safety: SafetyLike, namespace: str, deployment: str, container: str, *,
            image: str | None = None, env: Mapping[str, str] | None = None,
            memory_limit: str | None = None, change_cause: str | None = None) -> ActionResult:
    """Start a rolling update to a new pod template (``kubectl set image`` / ``set env``).

    Image, environment and memory limit change in one patch, so the release is one
    revision (one ReplicaSet) that ``rollout undo`` takes back as a whole.
    """
    body = container_patch(container, image=image, env=env, memory_limit=memory_limit)
    if change_cause:
        body["metadata"] = {"annotations": {CHANGE_CAUSE: change_cause}}
    target = f"deployment/{deployment} -n {namespace}"

    def _patch() -> None:
        call(kube, f"patch deployment {namespace}/{deployment}", kube.apps.patch_namespaced_deployment,
             deployment, namespace, body, _content_type=STRATEGIC)

    _, result = perform(safety, "release", target, _patch, container=container, image=image,
                        env=dict(env or {}), memory_limit=memory_limit)
    return result


def rollout_undo(kube: KubeClients, safety: SafetyLike, namespace: str, deployment: str, *,
                 to_revision: int | None = None, reason: str = "") -> ActionResult:
    """What ``kubectl rollout undo`` does: put the previous ReplicaSet's template back.

    The controller then reuses that ReplicaSet (its pods keep their hash) and gives it
    the next revision number, exactly as after a manual undo.
    """
    target = f"deployment/{deployment} -n {namespace}"
    found: dict[str, Any] = {}

    def _undo() -> None:
        deploy = read_deployment(kube, namespace, deployment)
        selector = ",".join(f"{k}={v}" for k, v in
                            (deploy["spec"]["selector"].get("matchLabels") or {}).items())
        rs_list = call(kube, f"list replicasets {namespace} {selector}",
                       kube.apps.list_namespaced_replica_set, namespace, label_selector=selector)
        replicasets = [_as_dict(kube, rs) for rs in rs_list.items]
        revision, template = previous_revision(deploy, replicasets, to_revision)
        found.update(from_revision=(deploy["metadata"].get("annotations") or {}).get(
            "deployment.kubernetes.io/revision"), to_revision=revision,
            image=[c.get("image") for c in template["spec"]["containers"]])
        patch = [{"op": "replace", "path": "/spec/template", "value": template}]
        call(kube, f"rollout undo deployment {namespace}/{deployment}",
             kube.apps.patch_namespaced_deployment, deployment, namespace, patch, _content_type=JSON_PATCH)

    _, result = perform(safety, "rollout undo", target, _undo, reason=reason)
    return ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                        {**result.details, **found})


def scale(kube: KubeClients, safety: SafetyLike, namespace: str, deployment: str, replicas: int,
          *, reason: str = "") -> ActionResult:
    """``kubectl scale deployment --replicas=N``."""
    def _scale() -> None:
        call(kube, f"scale deployment {namespace}/{deployment}", kube.apps.patch_namespaced_deployment,
             deployment, namespace, {"spec": {"replicas": replicas}}, _content_type=MERGE)

    _, result = perform(safety, "scale", f"deployment/{deployment} -n {namespace}", _scale,
                        replicas=replicas, reason=reason)
    return result


def set_config_value(kube: KubeClients, safety: SafetyLike, namespace: str, config_map: str, key: str,
                     value: str, *, reason: str = "") -> ActionResult:
    """``kubectl patch configmap NAME -p '{"data": {KEY: VALUE}}'``: a live edit of one value."""
    def _patch() -> None:
        call(kube, f"patch configmap {namespace}/{config_map}", kube.core.patch_namespaced_config_map,
             config_map, namespace, {"data": {key: value}}, _content_type=MERGE)

    _, result = perform(safety, "set config value", f"configmap/{config_map} -n {namespace}", _patch,
                        key=key, value=value, reason=reason)
    return result


def set_progress_deadline(kube: KubeClients, safety: SafetyLike, namespace: str, deployment: str,
                          seconds: int) -> ActionResult:
    """Set ``spec.progressDeadlineSeconds``: how long a rollout may make no progress."""
    def _patch() -> None:
        call(kube, f"patch deployment {namespace}/{deployment}", kube.apps.patch_namespaced_deployment,
             deployment, namespace, {"spec": {"progressDeadlineSeconds": int(seconds)}}, _content_type=MERGE)

    _, result = perform(safety, "set progress deadline", f"deployment/{deployment} -n {namespace}",
                        _patch, seconds=int(seconds))
    return result


def switch_selector(kube: KubeClients, safety: SafetyLike, namespace: str, service: str,
                    selector: Mapping[str, str], *, reason: str = "") -> ActionResult:
    """Point a Service at other pods by replacing its selector (the blue-green switch)."""
    found: dict[str, Any] = {}

    def _switch() -> None:
        svc = call(kube, f"read service {namespace}/{service}", kube.core.read_namespaced_service,
                   service, namespace)
        found["previous_selector"] = dict(svc.spec.selector or {})
        patch = [{"op": "replace", "path": "/spec/selector", "value": dict(selector)}]
        call(kube, f"patch service {namespace}/{service}", kube.core.patch_namespaced_service,
             service, namespace, patch, _content_type=JSON_PATCH)

    _, result = perform(safety, "switch service selector", f"service/{service} -n {namespace}", _switch,
                        selector=dict(selector), reason=reason)
    return ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                        {**result.details, **found})


def create_deployment(kube: KubeClients, safety: SafetyLike, namespace: str,
                      manifest: Mapping[str, Any]) -> ActionResult:
    """Create a Deployment (the green environment or the canary) from a manifest dict."""
    name = manifest["metadata"]["name"]

    def _create() -> None:
        body = client.V1Deployment.from_dict(dict(manifest))
        call(kube, f"create deployment {namespace}/{name}", kube.apps.create_namespaced_deployment,
             namespace, body)

    images = [c.get("image") for c in manifest["spec"]["template"]["spec"]["containers"]]
    _, result = perform(safety, "create deployment", f"deployment/{name} -n {namespace}", _create,
                        replicas=manifest["spec"].get("replicas"), image=images)
    return result


def delete_deployment(kube: KubeClients, safety: SafetyLike, namespace: str, name: str,
                      *, reason: str = "", missing_ok: bool = True) -> ActionResult | None:
    """Delete a Deployment and, by foreground cascade, its ReplicaSets and pods."""
    try:
        call(kube, f"read deployment {namespace}/{name}", kube.apps.read_namespaced_deployment, name, namespace)
    except Exception:
        if missing_ok:
            return None
        raise

    def _delete() -> None:
        call(kube, f"delete deployment {namespace}/{name}", kube.apps.delete_namespaced_deployment,
             name, namespace, body=client.V1DeleteOptions(propagation_policy="Background"), _preload_content=False)

    _, result = perform(safety, "delete deployment", f"deployment/{name} -n {namespace}", _delete,
                        reason=reason)
    return result


def delete_pod(kube: KubeClients, safety: SafetyLike, namespace: str, name: str, *, reason: str = "") -> ActionResult:
    """What ``kubectl delete pod`` does: a graceful deletion, so the pod drains for its grace period."""

    def _delete() -> None:
        call(kube, f"delete pod {namespace}/{name}", kube.core.delete_namespaced_pod, name, namespace,
             _preload_content=False)

    _, result = perform(safety, "delete pod", f"pod/{name} -n {namespace}", _delete, reason=reason)
    return result


def set_canary_weight(kube: KubeClients, safety: SafetyLike, namespace: str, stable: str, canary: str,
                      replicas: int, weight: int,
                      canary_ready: Callable[[int], bool] | None = None) -> ActionResult:
    """Route about ``weight`` % of traffic to the canary by replica ratio behind one Service.

    The canary scales first; ``canary_ready(n)`` (if given) waits until ``n`` canary pods
    are Ready before the stable side shrinks, so capacity never dips mid-change. When it
    answers False the stable side is left as it was and the result says so.
    """
    split = canary_split(replicas, weight)
    state: dict[str, Any] = {}

    def _scale(name: str, count: int) -> None:
        call(kube, f"scale deployment {namespace}/{name}", kube.apps.patch_namespaced_deployment,
             name, namespace, {"spec": {"replicas": count}}, _content_type=MERGE)

    def _apply() -> None:
        _scale(canary, split.canary)
        if canary_ready is not None and not canary_ready(split.canary):
            state["stable_scaled"] = False
            return
        _scale(stable, split.stable)
        state["stable_scaled"] = True

    _, result = perform(safety, "set canary weight", f"deployment/{canary} -n {namespace}", _apply,
                        weight=weight, stable_replicas=split.stable, canary_replicas=split.canary,
                        effective_weight=round(split.effective_weight, 1), mechanism="replica ratio")
    return ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                        {**result.details, **state})


def create_service(kube: KubeClients, safety: SafetyLike, namespace: str, manifest: Mapping[str, Any]) -> ActionResult:
    """Create a Service (the blue-green preview door to green) from a manifest dict."""
    name = manifest["metadata"]["name"]

    def _create() -> None:
        call(kube, f"create service {namespace}/{name}", kube.core.create_namespaced_service, namespace,
             client.V1Service.from_dict(dict(manifest)))

    _, result = perform(safety, "create service", f"service/{name} -n {namespace}", _create,
                        selector=dict(manifest["spec"].get("selector") or {}))
    return result


def delete_service(kube: KubeClients, safety: SafetyLike, namespace: str, name: str, *,
                   reason: str = "") -> ActionResult | None:
    """Delete a Service; None when it is already gone."""
    try:
        call(kube, f"read service {namespace}/{name}", kube.core.read_namespaced_service, name, namespace)
    except Exception:
        return None

    def _delete() -> None:
        call(kube, f"delete service {namespace}/{name}", kube.core.delete_namespaced_service, name, namespace,
             _preload_content=False)

    _, result = perform(safety, "delete service", f"service/{name} -n {namespace}", _delete, reason=reason)
    return result


# ----------------------------------------------------------------------------- traffic by weight
HTTPROUTE = ("gateway.networking.k8s.io", "v1", "httproutes")
NGINX_CANARY = "nginx.ingress.kubernetes.io/canary"
NGINX_CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


class RouteMismatch(ValueError):  # noqa: N818 - reads as the condition
    """The route does not have the backendRefs the weights are meant for; the message names them."""


def route_weight_patch(route: Mapping[str, Any], weights: Mapping[str, int]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """JSON patch that sets ``weights`` (Service name → weight) on the route's backendRefs.

    The rule changed is the first one whose backendRefs name every Service in ``weights``.
    Each replace is preceded by a ``test`` of the backendRef's name, so a route edited
    meanwhile (refs reordered) is refused by the server instead of getting weights on the
    wrong Service. Returns the patch and the weights it replaces.
    """
    rules = (route.get("spec") or {}).get("rules") or []
    for r, rule in enumerate(rules):
        refs = (rule or {}).get("backendRefs") or []
        index = {ref.get("name"): i for i, ref in enumerate(refs) if isinstance(ref, dict)}
        if not all(name in index for name in weights):
            continue
        patch: list[dict[str, Any]] = []
        previous: dict[str, int] = {}
        for name, weight in weights.items():
            i = index[name]
            previous[name] = int(refs[i].get("weight", 1))
            path = f"/spec/rules/{r}/backendRefs/{i}"
            patch.append({"op": "test", "path": f"{path}/name", "value": name})
            patch.append({"op": "add" if "weight" not in refs[i] else "replace", "path": f"{path}/weight",
                          "value": int(weight)})
        return patch, previous
    named = sorted({str(ref.get("name")) for rule in rules for ref in (rule or {}).get("backendRefs") or []
                    if isinstance(ref, dict)})
    raise RouteMismatch(f"no rule has backendRefs {sorted(weights)} (backendRefs on the route: {named or 'none'})")


def set_route_weights(kube: KubeClients, safety: SafetyLike, namespace: str, route: str,
                      weights: Mapping[str, int], *, reason: str = "") -> ActionResult:
    """Set the backendRef weights of a Gateway API HTTPRoute (``kubectl patch httproute --type=json``).

    This is how Flagger and Argo Rollouts shift a canary's traffic: the gateway routes the
    next request by the new weights; no pod is added or removed.
    """
    group, version, plural = HTTPROUTE
    found: dict[str, Any] = {}

    def _patch() -> None:
        current = call(kube, f"read httproute {namespace}/{route}", kube.custom.get_namespaced_custom_object,
                       group, version, namespace, plural, route)
        patch, found["previous_weights"] = route_weight_patch(current, weights)
        call(kube, f"patch httproute {namespace}/{route}", kube.custom.patch_namespaced_custom_object,
             group, version, namespace, plural, route, patch, _content_type=JSON_PATCH)

    _, result = perform(safety, "set route weights", f"httproute/{route} -n {namespace}", _patch,
                        weights=dict(weights), mechanism="Gateway API HTTPRoute", reason=reason)
    return ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                        {**result.details, **found})


def set_ingress_canary_weight(kube: KubeClients, safety: SafetyLike, namespace: str, ingress: str, weight: int,
                              *, reason: str = "") -> ActionResult:
    """Set NGINX Ingress's canary weight on the canary Ingress (``canary: "true"``, ``canary-weight``)."""
    found: dict[str, Any] = {}

    def _patch() -> None:
        current = call(kube, f"read ingress {namespace}/{ingress}", kube.networking.read_namespaced_ingress,
                       ingress, namespace)
        notes = current.metadata.annotations or {}
        found["previous_weight"] = notes.get(NGINX_CANARY_WEIGHT)
        body = {"metadata": {"annotations": {NGINX_CANARY: "true", NGINX_CANARY_WEIGHT: str(int(weight))}}}
        call(kube, f"patch ingress {namespace}/{ingress}", kube.networking.patch_namespaced_ingress,
             ingress, namespace, body, _content_type=MERGE)

    _, result = perform(safety, "set ingress canary weight", f"ingress/{ingress} -n {namespace}", _patch,
                        weight=int(weight), mechanism="NGINX Ingress canary annotations", reason=reason)
    return ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                        {**result.details, **found})


def set_selector_labels(kube: KubeClients, safety: SafetyLike, namespace: str, service: str,
                        labels: Mapping[str, str | None], *, reason: str = "") -> ActionResult:
    """Add (value) or remove (None) selector terms of a Service, leaving the others as they are.

    A router needs each backendRef to see only its own pods: while a canary runs, the
    stable Service is pinned to the stable pods' ``pod-template-hash`` (as Argo Rollouts
    pins it) and unpinned once the canary is gone.
    """
    found: dict[str, Any] = {}

    def _patch() -> None:
        svc = call(kube, f"read service {namespace}/{service}", kube.core.read_namespaced_service,
                   service, namespace)
        found["previous_selector"] = dict(svc.spec.selector or {})
        call(kube, f"patch service {namespace}/{service}", kube.core.patch_namespaced_service,
             service, namespace, {"spec": {"selector": dict(labels)}}, _content_type=MERGE)

    _, result = perform(safety, "set service selector labels", f"service/{service} -n {namespace}", _patch,
                        labels=dict(labels), reason=reason)
    return ActionResult(result.action, result.target, result.outcome, result.started, result.duration_s,
                        {**result.details, **found})
