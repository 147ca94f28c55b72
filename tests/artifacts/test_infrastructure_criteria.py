"""Infrastructure-readiness criteria on plain observations: the listening-port rule with a
breach, a clean host and a host where nothing was seen; the certificate rule with an
unusable minimum."""

from __future__ import annotations

import datetime as dt

from goldgate.criteria.infrastructure import only_allowed_ports, tls_valid
from goldgate.probes.host import ListeningPorts
from goldgate.probes.tls import TlsObservation
from goldgate.verdict import Status

T0 = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def test_an_unexpected_port_fails_with_both_lists() -> None:
    verdict = only_allowed_ports(ListeningPorts("ssh://bot-1", {22: ["0.0.0.0"], 6379: ["0.0.0.0"]}), [22, 443])
    assert verdict.status is Status.FAIL and verdict.observed == [6379] and verdict.threshold == [22, 443]
    assert "6379 (0.0.0.0)" in verdict.reason


def test_only_allowed_ports_pass() -> None:
    assert only_allowed_ports(ListeningPorts("ssh://bot-1", {22: ["0.0.0.0"]}), [22, 443]).status is Status.PASS


def test_a_host_with_no_listening_socket_seen_is_inconclusive() -> None:
    verdict = only_allowed_ports(ListeningPorts("ssh://bot-1", {}), [22])
    assert verdict.status is Status.INCONCLUSIVE and "no listening socket seen" in verdict.reason


def test_an_unusable_minimum_of_days_is_an_error() -> None:
    obs = TlsObservation("bot:443", "bot", True, "", T0 + dt.timedelta(days=90), "CN=bot", "CN=ca", "TLSv1.3")
    assert tls_valid(obs, T0, 14).status is Status.PASS
    assert tls_valid(obs, T0, float("nan")).status is Status.ERROR
