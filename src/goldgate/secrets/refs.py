"""What a secret reference looks like, and what a literal secret in a file looks like.

An environment file never holds a credential, only where to fetch it from:

=====================  ==================================================================
``env:VAR``            the variable in goldgate's own process environment
``file:PATH``          a file's content (a mounted Kubernetes Secret, a CI secret file)
``vault:PATH#KEY``     one key of a HashiCorp Vault KV secret (v2 or v1 mount)
``aws-sm:ID[#KEY]``    an AWS Secrets Manager secret: a key of its JSON, or the whole string
``k8s:NS/NAME#KEY``    one key of a Kubernetes Secret, read with the run's kubeconfig
=====================  ==================================================================

This module only parses; it does no I/O, so the schema and the configuration criteria can
use it without pulling in any client library.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator

REF_RE = re.compile(
    r"^(env:[A-Za-z_][A-Za-z0-9_]*"
    r"|file:.+"
    r"|vault:[^#\s]+#[^#\s]+"
    r"|aws-sm:[^#\s]+(#[^#\s]+)?"
    r"|k8s:[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?#[-._A-Za-z0-9]+)$"
)

REFERENCE_FORMS = "env:VAR, file:PATH, vault:PATH#KEY, aws-sm:SECRET_ID[#KEY] or k8s:NAMESPACE/NAME#KEY"


def check_ref(value: str) -> str:
    if not REF_RE.match(value):
        raise ValueError(f"secrets must be references ({REFERENCE_FORMS}), not literal values")
    return value


SecretRef = Annotated[str, AfterValidator(check_ref)]
"""A reference to a secret, resolved only at the moment of use and never logged."""


@dataclass(frozen=True)
class Reference:
    """A parsed reference: which backend, where in it, and which key (if any)."""

    text: str
    scheme: str
    location: str
    key: str | None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Split ``scheme:location#key``; the caller has validated the shape (or gets None keys)."""
        scheme, _, rest = text.partition(":")
        if scheme in ("env", "file"):
            return cls(text, scheme, rest, None)
        location, sep, key = rest.partition("#")
        return cls(text, scheme, location, key if sep else None)


# What carries a secret. A field is judged by what it holds, not by a word in its name
# alone: ``layout.secrets_baseline: .secrets.baseline`` names a file and ``database.url:
# sqlite:///x.db`` a database without a password; refusing them would make README's own
# defaults unusable. A key whose LAST word names a credential (``password``, ``api_key``,
# ``aws.token``) holds one by nature, unless its value is a path; any value shaped like a
# credential (a password inside a URL, a bearer token, a cloud or forge token, a PEM
# private key) is refused whatever its key.
SECRET_KEY_RE = re.compile(r"(?:^|[_.-])(password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|"
                           r"credentials?|passphrase)$", re.I)
SECRET_VALUE_RES = [
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # user:password@host in a URL
    re.compile(r"^(Bearer|Basic)\s+\S{8,}$", re.I),
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^(ghp|gho|ghs|github_pat|glpat|xox[abp]|sk_live|sk-)[-_]?[A-Za-z0-9_-]{10,}"),
]
#: A value that is a file or folder name: ``./x``, ``/etc/x``, ``~/x``, ``.secrets.baseline``, ``a/b.pem``.
PATH_RE = re.compile(r"^(\.{0,2}/|~/|\.[\w-]|[\w.-]+(/[\w.-]+)+$|[\w.-]+\.(json|ya?ml|txt|pem|crt|key|baseline|toml|ini|cfg|conf|env)$)")
#: A URL with no credentials in it (``sqlite:///x.db``, ``postgresql://db:5432/app``).
PLAIN_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^\s]*$", re.I)


def carries_secret(key: str, value: str) -> bool:
    """Whether ``value`` (under ``key``) holds a literal credential; references never do."""
    if REF_RE.match(value):
        return False
    if any(r.search(value) for r in SECRET_VALUE_RES):
        return True
    stripped = value.strip()
    return bool(SECRET_KEY_RE.search(key) and stripped and not PATH_RE.search(stripped))


def is_plain_url(value: str) -> bool:
    """A URL that carries no secret: usable as written where a reference is also accepted."""
    return bool(PLAIN_URL_RE.match(value)) and not SECRET_VALUE_RES[0].search(value)


def check_ref_or_plain_url(value: str) -> str:
    """A connection URL field: a reference, or a URL without a password in it."""
    if REF_RE.match(value) or is_plain_url(value):
        return value
    if SECRET_VALUE_RES[0].search(value):
        raise ValueError(f"holds a password; use a reference ({REFERENCE_FORMS}) for a URL with credentials")
    raise ValueError(f"must be a URL without a password (e.g. sqlite:///x.db) or a reference ({REFERENCE_FORMS})")


ConnectionUrl = Annotated[str, AfterValidator(check_ref_or_plain_url)]
"""A database URL: written as is when it holds no password, else a reference to a secret."""


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf of a YAML/JSON document with its field path."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, (*path, str(i)))
    else:
        yield path, node


def find_literal_secrets(raw: Any) -> list[str]:
    """Field paths in a parsed YAML document that hold something secret-looking."""
    hits = []
    for path, value in walk(raw):
        if isinstance(value, str) and carries_secret(path[-1] if path else "", value):
            hits.append(".".join(path))
    return hits


def references_in(document: Any) -> list[tuple[str, str]]:
    """``(field path, reference)`` for every reference in a document (an environment's dump)."""
    return [(".".join(path), value) for path, value in walk(document)
            if isinstance(value, str) and REF_RE.match(value)]
