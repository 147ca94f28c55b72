"""Kubernetes quantities and int-or-percent values, resolved the way the API server and the
Deployment controller resolve them, so two spellings of one amount compare equal.

``1000m`` is ``1`` CPU and ``512Mi`` is ``536870912`` bytes; ``maxSurge: 25%`` of 3 replicas
is 1 (rounded up) and ``maxUnavailable: 25%`` of 3 is 0 (rounded down). Exact decimals,
never floats, so ``0.1`` CPU is ``100m`` and not ``100.00000000000001m``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

_SUFFIX = {
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")
#: The API server stores quantities as int64 (of the base unit); anything larger is refused.
_MAX_QUANTITY = Decimal(2**63 - 1)
_PERCENT = re.compile(r"^(-?[0-9]+)%$")


class ValueProblemError(ValueError):
    """A value that is not what the API accepts in that field; the message says why."""


def parse_quantity(value: Any) -> Decimal:
    """The amount a quantity stands for, or :class:`ValueProblemError` (bools and lists are not amounts)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueProblemError(f"expected a quantity such as 500m or 512Mi, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueProblemError(f"{value!r} is not a quantity")
    text = str(value).strip()
    m = _QUANTITY.match(text)
    if not m:
        raise ValueProblemError(f"{text!r} is not a quantity (e.g. 500m, 1, 512Mi, 1Gi)")
    try:
        amount = Decimal(m[1]) * (Decimal(f"1{m[2]}") if m[2] else _SUFFIX[m[3] or ""])
    except InvalidOperation:
        raise ValueProblemError(f"{text!r} is not a quantity") from None
    if amount < 0:
        raise ValueProblemError(f"{text!r} is negative")
    if amount > _MAX_QUANTITY:
        raise ValueProblemError(f"{text!r} is larger than a Kubernetes quantity can be (2^63-1)")
    return amount


def canonical(amount: Decimal, resource: str) -> str:
    """One spelling per amount: CPU in millicores, memory in the largest exact binary unit."""
    if resource == "cpu":
        milli = amount * 1000
        return f"{milli.normalize():f}m" if milli != milli.to_integral_value() else f"{int(milli)}m"
    for unit in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        size = _SUFFIX[unit]
        if amount >= size and amount % size == 0:
            return f"{int(amount // size)}{unit}"
    return f"{amount.normalize():f}"


def scaled(value: Any, total: int | None, *, round_up: bool) -> int | None:
    """An int-or-percent resolved against ``total`` pods, as the Deployment controller does.

    Returns None when the value is a non-zero percentage and ``total`` is unknown (a
    DaemonSet's node count). Raises :class:`ValueProblemError` for anything the API would reject.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueProblemError(f"expected an integer or a percentage such as 25%, got {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise ValueProblemError(f"{value} is negative")
        return value
    m = _PERCENT.match(value.strip())
    if not m:
        if value.strip().isdigit():
            raise ValueProblemError(f"{value!r} is a string: write the integer {value.strip()} or a percentage")
        raise ValueProblemError(f"{value!r} is neither an integer nor a percentage")
    percent = int(m[1])
    if percent < 0:
        raise ValueProblemError(f"{value!r} is negative")
    if percent == 0:
        return 0
    if total is None:
        return None
    exact = Decimal(percent) * total / 100
    return int(exact.to_integral_value(rounding="ROUND_CEILING" if round_up else "ROUND_FLOOR"))
