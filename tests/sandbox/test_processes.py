"""Child processes are stopped politely, and killed when they ignore the request."""

from __future__ import annotations

import subprocess
import sys
import time

from goldgate.sandbox.processes import stop_process

IGNORES_SIGTERM = "import signal,sys,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)\n"


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    began = time.monotonic()
    assert stop_process(proc, grace_s=0.3) == -9
    assert 0.3 <= time.monotonic() - began < 5


def test_a_polite_process_stops_on_sigterm_and_a_stopped_one_is_left_alone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert stop_process(proc) == -15
    assert stop_process(proc) == -15
