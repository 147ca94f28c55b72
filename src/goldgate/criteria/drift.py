""""Staging matches production" (guide §1.2): two workload specs, compared on what must
match — replicas, strategy, probes, resources, env var names, config keys, pod labels —
and never on what may differ (images, secret values, env values).

Both sides are normalised first, the way the API server and the Deployment controller read
them, so spelling is never a difference: ``maxSurge: 25%`` of 3 replicas is 1, a probe on
the named port ``http`` is a probe on 8080, ``1000m`` CPU is ``1`` and ``512Mi`` is
``536870912``. Containers are matched by name, and one present on one side only is
reported as such. The message leads with the difference that matters most (strategy type,
then rollout fenceposts, replicas, containers, probes, resources, env, labels), so the key
line is never hidden behind cosmetic ones. Pure: specs arrive as dicts.
"""

from __future__ import annotations

from typing import Any

from goldgate.criteria.registry import criterion
from goldgate.criteria.spec_rules.quantity import ValueProblemError, canonical, scaled
from goldgate.criteria.spec_rules.shape import (
    POD_SPEC_PATH,
    ContainerSpec,
    ProbeSpec,
    ShapeProblem,
    read_workload,
)
from goldgate.verdict import Evidence, Verdict

_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
                   "initialDelaySeconds": 0}
#: path prefix → rank; lower ranks lead the message
_RANK = (("strategy.type", 0), ("strategy.", 1), ("replicas", 2), ("containers", 3), ("probe", 4),
         ("resources", 5), ("env", 6), ("config", 7), ("labels", 8))


class SpecUnreadable(ValueError):  # noqa: N818 - reads as the condition
    """A spec that cannot be normalised; the message names the field path."""


def comparable(workload: Any) -> dict[str, Any]:
    """The normalised parts of a workload that must be equal between staging and production."""
    if not isinstance(workload, dict):
        raise SpecUnreadable(f"(document): expected a mapping, got {type(workload).__name__}")
    kind = workload.get("kind") or "Deployment"
    if not isinstance(kind, str) or kind not in POD_SPEC_PATH:
        raise SpecUnreadable(f"kind: {kind!r} has no pod template")
    # Drift compares specs, whichever side they come from: apiVersion is not what differs here
    # (``goldgate check manifests`` judges it), so both sides are read as served objects.
    spec, problems = read_workload(workload, kind, served=True)
    if not problems and not spec.containers:
        problems = [ShapeProblem(f"{POD_SPEC_PATH[kind]}.containers", "no containers")]
    if problems:
        raise SpecUnreadable("; ".join(f"{p.field}: {p.cause}" for p in problems))
    out: dict[str, Any] = {"replicas": spec.replicas}
    if spec.strategy_type is not None:
        out["strategy"] = {"type": spec.strategy_type}
        if spec.strategy_type == "RollingUpdate" and kind != "StatefulSet":
            total = spec.replicas if kind != "DaemonSet" else None
            try:
                out["strategy"]["maxSurge"] = _resolved(spec.max_surge, total, True)
                out["strategy"]["maxUnavailable"] = _resolved(spec.max_unavailable, total, False)
            except ValueProblemError as exc:
                raise SpecUnreadable(f"{spec.strategy_field}.rollingUpdate: {exc}") from None
    out["labels"] = dict(sorted(spec.labels.items()))
    out["containers"] = {c.name: _container(c) for c in spec.containers}
    return out


def _resolved(value: Any, total: int | None, round_up: bool) -> Any:
    n = scaled(value, total, round_up=round_up)
    return n if n is not None else str(value)


def _container(c: ContainerSpec) -> dict[str, Any]:
    return {
        "resources": {part: {res: canonical(amount, res) for res, (_w, amount) in sorted(values.items())}
                      for part, values in (("requests", c.requests), ("limits", c.limits))},
        **{kind: _probe(p, c) for kind, p in c.probes.items()},
        "env names": list(c.env_names),
        "config keys": list(c.config_keys),
    }


def _probe(p: ProbeSpec | None, c: ContainerSpec) -> dict[str, Any] | None:
    if p is None:
        return None
    out = {**_PROBE_DEFAULTS, **{k: v for k, v in p.settings.items() if v is not None}}
    for handler in ("httpGet", "tcpSocket", "grpc"):
        body = out.get(handler)
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if v is not None}
            if handler == "httpGet":
                body = {"scheme": "HTTP", "path": "/", **body}
            port = body.get("port")
            if isinstance(port, str) and port in c.ports:
                body["port"] = c.ports[port]  # a named port is the number it names
            out[handler] = body
    return out


def _differences(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if a == b else [f"{path}: staging {a!r}, production {b!r}"]


def _rank(line: str) -> int:
    path = line.split(":", 1)[0]
    if path.startswith("container "):
        rest = path.split(".", 1)[1] if "." in path else "containers"
        path = "probe" if "Probe" in rest.split(".")[0] else rest
    return next((rank for prefix, rank in _RANK if path.startswith(prefix)), len(_RANK))


def differences(staging: dict[str, Any], production: dict[str, Any]) -> list[str]:
    """Every difference, most important first; unmatched containers are named on their own."""
    a, b = dict(staging), dict(production)
    ca, cb = a.pop("containers", {}), b.pop("containers", {})
    out = _differences(a, b, "")
    for name in sorted(set(ca) | set(cb)):
        if name not in cb:
            out.append(f"containers: container {name!r} only in staging")
        elif name not in ca:
            out.append(f"containers: container {name!r} only in production")
        else:
            out += _differences(ca[name], cb[name], f"container {name}")
    return sorted(out, key=_rank)


@criterion(needs="two readable workload specs with containers (staging and the production reference)")
def specs_match(staging: Any, production: Any, staging_name: str, production_name: str) -> Verdict:
    crit = "staging matches production"
    ev = Evidence("kubernetes", f"{staging_name} vs {production_name}")
    normal = {}
    for side, spec, name in (("staging", staging, staging_name), ("production", production, production_name)):
        try:
            normal[side] = comparable(spec)
        except SpecUnreadable as exc:
            return Verdict.error(crit, f"{side} spec {name}: {exc}", threshold="identical", evidence=ev)
    found = differences(normal["staging"], normal["production"])
    ev = Evidence("kubernetes", f"{staging_name} vs {production_name}", details={"differences": found})
    if found:
        return Verdict.failed(crit, f"{len(found)} differences", "identical", "; ".join(found), evidence=ev)
    return Verdict.passed(crit, "identical", "identical",
                          "replicas, strategy, probes, resources, env names, config keys and labels match", evidence=ev)
