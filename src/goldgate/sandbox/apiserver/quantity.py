"""Canonical resource quantities, as the API server stores them.

A real API server re-serialises every quantity canonically (``1000m`` becomes ``1``,
``1024Mi`` becomes ``1Gi``). Clients do the same when they round-trip an object
(``kubectl rollout undo`` copies a ReplicaSet's template back), so storing the
canonical form is what keeps "the same template" equal on both sides.
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SUFFIX_BY_EXP = {exp: suffix for suffix, exp in _DECIMAL.items()}
_BINARY_BY_POWER = {power: suffix for suffix, power in _BINARY.items()}
_PATTERN = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$")


def canonical_quantity(text: object) -> object:
    """The canonical spelling of a quantity; anything unparsable is returned unchanged."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        return text
    match = _PATTERN.match(str(text).strip())
    if not match:
        return text
    number, suffix, exponent = match.group(1), match.group(2) or "", match.group(3)
    value = Fraction(number)
    binary = suffix in _BINARY
    if binary:
        value *= 1024 ** _BINARY[suffix]
    elif exponent is not None:
        value *= Fraction(10) ** int(exponent)
    else:
        value *= Fraction(10) ** _DECIMAL[suffix]
    if binary and abs(value) >= 1024 and value.denominator == 1:
        power = 0
        mantissa = int(value)
        while power < 6 and mantissa % 1024 == 0 and mantissa != 0:
            mantissa //= 1024
            power += 1
        return f"{mantissa}{_BINARY_BY_POWER.get(power, '')}"
    # Decimal: round up to nano units, then pick the largest exponent keeping an integer.
    nanos = -((-value * 10**9) // 1)
    if nanos == 0:
        return "0"
    exp = -9
    while exp < 18 and nanos % 1000 == 0:
        nanos //= 1000
        exp += 3
    return f"{nanos}{_SUFFIX_BY_EXP[exp]}"
