"""The one exception a secret reference raises when it cannot be turned into a value.

Steps list :class:`SecretResolutionError` among their "could not measure" exceptions, so
a check whose credential is unavailable becomes an ERROR verdict naming the reference and
the cause, and the run's decision is NO-GO. Keeping a single type is what makes that work:
a backend-specific exception escaping here would crash the check instead.
"""

from __future__ import annotations


class SecretResolutionError(Exception):
    """A reference that could not be resolved; names the reference, never a value."""


def unresolved(ref: str, cause: str) -> SecretResolutionError:
    """The message every backend uses: ``secret reference REF not resolved: CAUSE``."""
    return SecretResolutionError(f"secret reference {ref} not resolved: {cause}")
