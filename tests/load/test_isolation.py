"""locust (and gevent's monkey-patching) never enters the pytest process."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import ROOT


def test_the_load_modules_and_steps_do_not_import_locust_or_gevent() -> None:
    code = (
        "import sys\n"
        "import goldgate.load.runner, goldgate.load.measure, goldgate.load.evidence, goldgate.load.baseline\n"
        "import goldgate.criteria.load, steps.load\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent', 'geventhttpclient'))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
