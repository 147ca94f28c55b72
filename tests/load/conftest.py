"""Helpers for load tests against real reference bots on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from goldgate.load.guard import require_loopback
from goldgate.load.plan import LoadPlan
from goldgate.load.runner import LoadResult, LoadRunner


def locust_processes_for(results_dir: Path) -> list[psutil.Process]:
    """Any process still alive that was started for this results folder."""
    out = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if proc.info["cwd"] == str(results_dir) and any("locust" in part for part in proc.info["cmdline"] or ()):
                out.append(proc)
        except (psutil.Error, TypeError):
            continue
    return out


@pytest.fixture
def run_load(tmp_path: Path) -> Callable[..., LoadResult]:
    """Run a plan (loopback only) and check that no locust process outlives it."""
    counter = iter(range(1000))

    def _run(plan: LoadPlan, **kw: object) -> LoadResult:
        require_loopback(plan)
        results_dir = tmp_path / f"run-{next(counter)}-{plan.label}"
        result = LoadRunner(plan, results_dir=results_dir, **kw).run()  # type: ignore[arg-type]
        assert locust_processes_for(results_dir) == []
        return result

    return _run
