"""The ground floor: how goldgate reaches a Kubernetes API server and an HTTP endpoint.

Probes, secret stores, actions and the judge all talk to the same two kinds of server, with
the same settings (kubeconfig or in-cluster account, request timeouts, bounded retries) and
the same words for a failure. They live here, below everything that uses them, so that
``goldgate.config`` (which holds these settings in an environment file), ``goldgate.secrets``
(which reads Kubernetes Secrets and Vault over them) and ``goldgate.probes`` (which measure
over them) import downwards only. This package imports nothing from goldgate but
:mod:`goldgate.clients` itself; the ``layers`` contract in pyproject.toml keeps it so.

- :mod:`goldgate.clients.settings`: the ``kubernetes`` and ``timeouts`` sections of an
  environment file.
- :mod:`goldgate.clients.kubernetes`: an API client for the target, every call bounded.
- :mod:`goldgate.clients.http`: one bounded HTTP exchange, retried only when idempotent.
"""
