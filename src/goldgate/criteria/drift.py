""""Staging matches production" (guide §1.2): two Deployment specs, compared on what must
match — replicas, strategy, resources, probes, env var names, config keys — and never on
what may differ (images, secret values, env values). Pure: specs arrive as dicts."""

from __future__ import annotations

import re
from typing import Any

from goldgate.verdict import Evidence, Verdict

_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
                   "initialDelaySeconds": 0}
_UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": 1e-3}


def quantity(value: Any, resource: str = "") -> str:
    """One spelling per amount, so ``1000m`` equals ``1`` and ``1024Mi`` equals ``1Gi``."""
    m = re.match(r"^([0-9.]+)([a-zA-Z]*)$", str(value))
    if not m or m[2] not in _UNITS:
        return str(value)
    amount = float(m[1]) * _UNITS[m[2]]
    if resource == "cpu":
        return f"{round(amount * 1000)}m"
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        if amount >= _UNITS[unit] and amount % _UNITS[unit] == 0:
            return f"{int(amount // _UNITS[unit])}{unit}"
    return f"{amount:g}"


def _probe(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if not p:
        return None
    out = {**_PROBE_DEFAULTS, **{k: v for k, v in p.items() if v is not None}}
    if "httpGet" in out:
        out["httpGet"] = {"scheme": "HTTP", **{k: v for k, v in out["httpGet"].items() if v is not None}}
    return out


def _strategy(s: dict[str, Any] | None) -> dict[str, Any]:
    s = s or {}
    kind = s.get("type") or "RollingUpdate"
    if kind != "RollingUpdate":
        return {"type": kind}
    ru = s.get("rollingUpdate") or {}
    return {"type": kind, "maxSurge": str(ru.get("maxSurge", "25%")), "maxUnavailable": str(ru.get("maxUnavailable", "25%"))}


def comparable(deployment: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Deployment that must be equal between staging and production."""
    spec = deployment.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    out: dict[str, Any] = {"replicas": spec.get("replicas", 1), "strategy": _strategy(spec.get("strategy"))}
    for c in pod.get("containers") or []:
        name = c.get("name", "?")
        res = c.get("resources") or {}
        env = c.get("env") or []
        config_keys = sorted(
            f"{(e.get('valueFrom') or {})['configMapKeyRef'].get('name')}/{(e.get('valueFrom') or {})['configMapKeyRef'].get('key')}"
            for e in env if (e.get("valueFrom") or {}).get("configMapKeyRef")
        ) + sorted(f"{(s.get('configMapRef') or {}).get('name')}/*" for s in c.get("envFrom") or [] if s.get("configMapRef"))
        out[f"container {name}"] = {
            "resources": {kind: {k: quantity(v, k) for k, v in (res.get(kind) or {}).items()} for kind in ("requests", "limits")},
            "livenessProbe": _probe(c.get("livenessProbe")),
            "readinessProbe": _probe(c.get("readinessProbe")),
            "startupProbe": _probe(c.get("startupProbe")),
            "env names": sorted(e.get("name", "") for e in env),
            "config keys": config_keys,
        }
    return out


def _differences(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if a == b else [f"{path}: staging {a!r}, production {b!r}"]


def specs_match(staging: dict[str, Any], production: dict[str, Any], staging_name: str, production_name: str) -> Verdict:
    crit = "staging matches production"
    differences = _differences(comparable(staging), comparable(production), "")
    ev = Evidence("kubernetes", f"{staging_name} vs {production_name}", details={"differences": differences})
    if differences:
        return Verdict.failed(crit, f"{len(differences)} differences", "identical", "; ".join(differences[:8]), evidence=ev)
    return Verdict.passed(crit, "identical", "identical", "replicas, strategy, resources, probes, env names and config keys match", evidence=ev)
