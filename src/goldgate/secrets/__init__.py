"""Secret references and their backends: environment, files, Vault, AWS Secrets Manager,
Kubernetes Secrets (guide §4.1: "Secrets: use HashiCorp Vault or AWS Secrets Manager").

An environment file holds only references (:mod:`goldgate.secrets.refs`); the run's
:class:`~goldgate.secrets.resolver.SecretResolver` fetches each once, registers the value
with the redactor before anyone sees it, and turns every failure — unreachable, denied,
missing path, missing key — into one :class:`SecretResolutionError` naming the reference
and the cause, which steps report as an ERROR verdict.

Example::

    >>> from goldgate.secrets import resolve_secret
    >>> import os; os.environ["GG_DOC_TOKEN"] = "doc-token-123"
    >>> resolve_secret("env:GG_DOC_TOKEN")
    'doc-token-123'
"""

from goldgate.secrets.errors import SecretResolutionError
from goldgate.secrets.refs import (
    REF_RE,
    REFERENCE_FORMS,
    ConnectionUrl,
    Reference,
    SecretRef,
    check_ref,
    find_literal_secrets,
    is_plain_url,
)
from goldgate.secrets.resolver import SecretResolver, active_resolver, configure_run, resolve_secret
from goldgate.secrets.settings import AwsSettings, SecretsConfig, VaultSettings

__all__ = [
    "REFERENCE_FORMS", "REF_RE", "AwsSettings", "ConnectionUrl", "Reference", "SecretRef", "SecretResolutionError",
    "SecretResolver", "SecretsConfig", "VaultSettings", "active_resolver", "check_ref", "configure_run",
    "find_literal_secrets", "is_plain_url", "resolve_secret",
]
