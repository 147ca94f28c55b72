"""Running ``goldgate check manifests`` in-process and as a command, for the tests here."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from pathlib import Path

from goldgate.checks import manifests as check
from goldgate.checks.output import Finding

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures")
GOLDGATE = Path(sys.executable).with_name("goldgate")


def findings(*paths: str | Path, env: str | None = None, stdin: bytes | None = None) -> list[Finding]:
    args = argparse.Namespace(paths=[str(p) for p in paths], env=env, environments=str(ROOT / "environments"))
    return check.run(args, io.BytesIO(stdin) if stdin is not None else None)


def judged(found: list[Finding]) -> dict[tuple[str, str], str]:
    """(rule, container) → status of every finding that ran."""
    return {(f.rule, f.container): f.status.value for f in found if f.status is not None}


def expectations(path: Path) -> dict[str, str]:
    """The ``# expect: rule[@container]=STATUS …`` header of a fixture ({} = every rule PASS)."""
    for line in path.read_text().splitlines():
        if line.startswith("# expect:"):
            return dict(m.groups() for m in re.finditer(r"([\w@-]+)=(\w+)", line))
    return {}


def cli(*args: str, stdin: str | bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([str(GOLDGATE), "check", "manifests", *args], input=data, capture_output=True,
                          cwd=cwd, timeout=60, check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())
