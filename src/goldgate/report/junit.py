"""reports/junit.xml: written by every run, with goldgate's outcomes spelled right.

pytest's junitxml writes a ``<failure>`` for any exception in a test's call phase. For a
release gate that conflates two different answers: FAIL (measured, breached) and
ERROR/INCONCLUSIVE (could not measure, too little data). CI dashboards that count
JUnit failures and errors separately should see the latter as ``<error>``, as pytest's
terminal and Allure already do. :func:`finalize` rewrites the file once pytest has
written it, and masks any secret on the way.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET  # nosec B405
from pathlib import Path

from goldgate.report.redact import redact

DEFAULT_PATH = "reports/junit.xml"

# The XML parsed here is only ever the file pytest's junitxml has just written in this
# run, never outside input: hence the nosec marks on the ElementTree use.

#: The exceptions of goldgate.verdict that stand for ERROR and INCONCLUSIVE verdicts.
_NOT_MEASURED = re.compile(r"\b(ProbeError|InconclusiveError)\b|^(ERROR|INCONCLUSIVE): ")


def finalize(path: Path) -> int:
    """Turn ERROR/INCONCLUSIVE ``<failure>`` into ``<error>`` and redact; returns how many moved."""
    try:
        text = path.read_text(encoding="utf-8")
        root = ET.fromstring(redact(text))  # noqa: S314  # nosec B314
    except (OSError, ET.ParseError):
        # Absent, or being rewritten by a concurrent run sharing the path: not ours to fix.
        return 0
    moved = 0
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        suite_moved = 0
        for case in suite.iter("testcase"):
            for child in case:
                if child.tag == "failure" and _NOT_MEASURED.search(child.get("message", "")):
                    child.tag = "error"
                    suite_moved += 1
        if suite_moved:
            suite.set("failures", str(max(int(suite.get("failures", "0")) - suite_moved, 0)))
            suite.set("errors", str(int(suite.get("errors", "0")) + suite_moved))
        moved += suite_moved
    body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".junit-", suffix=".xml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body)
    os.replace(tmp, path)
    return moved
