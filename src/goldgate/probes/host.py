"""Hosts through testinfra: which TCP ports are listening (the firewall's other half)."""

from __future__ import annotations

import re
from dataclasses import dataclass


class HostUnavailable(Exception):  # noqa: N818 - reads as the condition
    """testinfra could not reach or query the host; the message names it."""


@dataclass(frozen=True)
class ListeningPorts:
    host: str
    ports: dict[int, list[str]]  # port -> listening addresses


def listening_ports(spec: str) -> ListeningPorts:
    """TCP listening sockets of ``spec`` (a testinfra host: ``local://``, ``ssh://user@host``...)."""
    import testinfra

    try:
        host = testinfra.get_host(spec)
        sockets = host.socket.get_listening_sockets()
    except Exception as exc:  # testinfra backends raise their own transport errors
        raise HostUnavailable(f"{spec}: cannot list listening sockets: {type(exc).__name__}: {exc}") from None
    ports: dict[int, list[str]] = {}
    for entry in sockets:
        m = re.match(r"^tcp://(?P<addr>.+):(?P<port>\d+)$", entry)
        if m:
            ports.setdefault(int(m["port"]), []).append(m["addr"])
    return ListeningPorts(spec, ports)
