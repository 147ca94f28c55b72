"""Helpers of the record-system tests: a bounded client on a fake server whose waits are recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from goldgate.probes.records.client import RecordClient


@pytest.fixture
def client() -> Callable[..., RecordClient]:
    """``client(provider, url, headers)``: retries 2, waits recorded in ``.waits`` instead of slept."""

    def make(provider: str, url: str, headers: dict[str, str] | None = None, **kw: object) -> RecordClient:
        waits: list[float] = []
        c = RecordClient(provider, url, headers or {}, timeout_s=2.0, retries=2, budget_s=10.0,
                         sleep=waits.append, **kw)  # type: ignore[arg-type]
        c.waits = waits  # type: ignore[attr-defined]
        return c

    return make
