"""A load run started where SIGINT is ignored (``nohup``, a shell's ``&``, some CI runners).

The runner is started from a parent whose SIGINT is SIG_IGN, so it and, without goldgate's
reset, every locust process inherit it. SIGINT or SIGTERM to the runner must still stop the
run, leave no locust process, and keep locust's HTML report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .conftest import locust_processes_for

pytestmark = pytest.mark.sandbox


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_run_started_with_sigint_ignored_stops_and_writes_the_report(start_bot, tmp_path: Path,
                                                                       stop: signal.Signals) -> None:
    url = start_bot()
    results = tmp_path / "ignored"
    script = textwrap.dedent(f"""
        from goldgate.load.plan import LoadPlan
        from goldgate.load.runner import LoadRunner
        try:
            LoadRunner(LoadPlan({url!r}, rate_rps=20, duration_s=60, workers=1), results_dir={str(results)!r}).run()
        except KeyboardInterrupt:
            raise SystemExit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], preexec_fn=_ignore_sigint)
    deadline = time.monotonic() + 30
    while not list(results.glob("requests-*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    running = locust_processes_for(results)
    assert len(running) == 2  # master and worker
    for p in running:  # the children start with default dispositions, not the inherited SIG_IGN
        status = Path(f"/proc/{p.pid}/status").read_text()
        ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
        assert not ignored & (1 << (signal.SIGINT - 1)), f"pid {p.pid} ignores SIGINT"
    os.kill(proc.pid, stop)
    assert proc.wait(timeout=30) == 130
    assert locust_processes_for(results) == []
    report = results / "locust-report.html"
    assert report.is_file() and report.stat().st_size > 1000
