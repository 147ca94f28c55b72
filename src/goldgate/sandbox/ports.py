"""Loopback ports for the sandbox's listeners (pods, PostgreSQL servers, stable bots).

A real pod has its own IP address, so its port never collides with anything. Here every
pod listens on 127.0.0.1, and a port taken with ``bind(0)`` comes from the kernel's
ephemeral range, the same range every outgoing connection takes its local port from:
a load run opening thousands of connections, or another listener started between
choosing the port and binding it, can take it first, and the bot then exits at start
("address already in use") and crash-loops on the same port. Ports are therefore taken
below the ephemeral range, where only listeners that name their port live, and each
candidate is checked free before it is handed out.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["free_port", "is_free"]

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: Lowest port handed out (above the registered services commonly found on a machine).
_LOW = 20000
_ATTEMPTS = 64
_rng = random.Random()


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (32768 when it cannot be read)."""
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def is_free(port: int) -> bool:
    """Whether a listener could bind ``127.0.0.1:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free loopback port below the ephemeral range (the kernel's choice if none is found)."""
    high = _ephemeral_low()
    if high - _LOW > 1000:
        for _ in range(_ATTEMPTS):
            port = _rng.randrange(_LOW, high)
            if is_free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
