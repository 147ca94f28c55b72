"""Every rule that refuses a field refuses it when the file is loaded: one line, exit 4, before any test.

``load_environment`` is what both ``pytest --env`` and ``goldgate env check`` call, so a
rule checked here holds for both; tests/release_project/test_readers.py runs the no-leakage
rule through both front ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from goldgate.config import EnvironmentFileError, load_environment

BASE = "name: team\nkubernetes: {kubeconfig: /etc/kube/config}\n"


def _load(tmp_path: Path, body: str) -> object:
    (tmp_path / "team.yaml").write_text(BASE + body, encoding="utf-8")
    return load_environment("team", tmp_path)


@pytest.mark.parametrize(("body", "words"), [
    ("http: {tls_url: sandbox}\nrelease: {version: 1.0.0, project: ../app}\n",
     "http.tls_url: 'sandbox' is not an https:// URL but the endpoint of the release project named 'sandbox', "
     "and release.project is '../app'"),
    ("http: {tls_url: sandbox}\nrelease: {version: 1.0.0}\n", "release.project is None"),
    ("strategy: {canary_traffic: ingress}\nrelease: {version: 1.0.0}\n",
     "strategy: canary_traffic 'ingress' needs strategy.router"),
    ("strategy: {canary_traffic: service-mesh, router: {name: bot}}\nrelease: {version: 1.0.0}\n",
     "router.kind 'service-mesh'"),
    ("not_applicable: [{check: x, reason: no}]\nrelease: {version: 1.0.0}\n", "not_applicable.0.reason"),
])
def test_a_refused_field_stops_the_load_with_one_line(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(EnvironmentFileError) as info:
        _load(tmp_path, body)
    message = str(info.value)
    assert words in message and "\n" not in message and str(tmp_path / "team.yaml") in message


@pytest.mark.parametrize("body", [
    "http: {tls_url: 'https://ledger.example.internal'}\nrelease: {version: 1.0.0, project: ../app}\n",
    "http: {tls_url: sandbox}\nrelease: {version: 1.0.0, project: sandbox}\n",
    "strategy: {canary_traffic: ingress, router: {name: bot-canary}}\nrelease: {version: 1.0.0}\n",
    "not_applicable: [{check: TLS certificates are valid, reason: no TLS endpoint}]\nrelease: {version: 1.0.0}\n",
])
def test_the_same_fields_written_consistently_load(tmp_path: Path, body: str) -> None:
    _load(tmp_path, body)
