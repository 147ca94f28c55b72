"""Kubernetes resource quantities (``500m``, ``1Gi``) to numbers and back."""

from __future__ import annotations

import re

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9,
            "T": 1e12, "P": 1e15, "E": 1e18}
_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: str | int | float) -> float:
    """``"1Gi"`` → 1073741824.0, ``"500m"`` → 0.5; raises ValueError on nonsense."""
    if isinstance(value, int | float):
        return float(value)
    m = _RE.match(str(value).strip())
    if not m:
        raise ValueError(f"invalid quantity {value!r}")
    number, suffix = m.groups()
    if suffix in _BINARY:
        return float(number) * _BINARY[suffix]
    if suffix in _DECIMAL:
        return float(number) * _DECIMAL[suffix]
    raise ValueError(f"invalid quantity suffix in {value!r}")


def format_cpu(cores: float) -> str:
    """Millicores, as metrics-server reports them (``12m``)."""
    return f"{max(0, round(cores * 1000))}m"


def format_memory(nbytes: float) -> str:
    """Mebibytes, as ``kubectl top`` shows them (``48Mi``)."""
    return f"{max(0, round(nbytes / 2**20))}Mi"


def format_kibibytes(nbytes: float) -> str:
    return f"{int(nbytes // 1024)}Ki"
