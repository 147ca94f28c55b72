"""Migration walk benchmark: ``goldgate check migrations`` next to alembic's own round trip.

Generates a project with ``alembic init`` (generic template) and a linear history of
--revisions revisions (each adds a table, a column or an index, with a real downgrade),
then times on the same kind of scratch database (a fresh SQLite file each run):

* alembic    ``alembic upgrade head`` + ``alembic downgrade base`` (two CLI runs);
* goldgate   ``goldgate check migrations PATH``: the proof run, the first upgrade, then
             every revision upgraded, downgraded and upgraded again with a schema snapshot
             after each step.

Both as fresh processes (the way CI runs them), median of --runs. Prints both medians and
the ratio; the aim is goldgate <= 3x alembic.

Run: .venv/bin/python bench/migrations_speed.py [--revisions 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _revision_bodies(i: int) -> tuple[str, str]:
    if i == 0:
        return ('op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))', 'op.drop_table("orders")')
    if i % 3 == 0:
        return (f'op.create_table("ledger_{i}", sa.Column("id", sa.Integer(), primary_key=True), '
                f'sa.Column("amount", sa.Float(), nullable=False))', f'op.drop_table("ledger_{i}")')
    if i % 3 == 1:
        return (f'op.add_column("orders", sa.Column("field_{i}", sa.String(32), nullable=True))',
                f'with op.batch_alter_table("orders") as batch:\n        batch.drop_column("field_{i}")')
    return (f'op.create_index("ix_orders_field_{i - 1}", "orders", ["field_{i - 1}"])',
            f'op.drop_index("ix_orders_field_{i - 1}", table_name="orders")')


def make_project(folder: Path, revisions: int) -> Path:
    from alembic import command
    from alembic.config import Config

    subprocess.run([sys.executable, "-m", "alembic", "init", "--template", "generic", "alembic"], cwd=folder,
                   check=True, capture_output=True, timeout=120)
    ini = folder / "alembic.ini"
    cfg = Config(str(ini))
    for i in range(revisions):
        with contextlib.redirect_stdout(io.StringIO()):  # alembic's "Generating ..." lines
            script = command.revision(cfg, message=f"ledger step {i} for the order book")
        up, down = _revision_bodies(i)
        path = Path(script.path)
        text = path.read_text(encoding="utf-8")
        text = text.replace('    """Upgrade schema."""\n    pass', f'    """Upgrade schema."""\n    {up}')
        text = text.replace('    """Downgrade schema."""\n    pass', f'    """Downgrade schema."""\n    {down}')
        path.write_text(text, encoding="utf-8")
    return ini


def _time(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}): {run.stdout[-800:]}{run.stderr[-800:]}")
    return elapsed


def alembic_round_trip(ini: Path, scratch: Path) -> float:
    """alembic's own upgrade head + downgrade base on a fresh SQLite file named in the ini."""
    scratch.unlink(missing_ok=True)
    text = ini.read_text(encoding="utf-8")
    ini.write_text(_with_url(text, f"sqlite:///{scratch}"), encoding="utf-8")
    alembic = [sys.executable, "-m", "alembic", "-c", str(ini)]
    return _time([*alembic, "upgrade", "head"], ini.parent) + _time([*alembic, "downgrade", "base"], ini.parent)


def _with_url(text: str, url: str) -> str:
    lines = [f"sqlalchemy.url = {url}" if line.startswith("sqlalchemy.url") else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def goldgate_check(ini: Path, scratch: Path) -> float:
    scratch.unlink(missing_ok=True)
    return _time([sys.executable, "-m", "goldgate.cli", "check", "migrations", str(ini), "--url",
                  f"sqlite:///{scratch}"], ini.parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="goldgate-bench-migrations-"))
    try:
        ini = make_project(folder, args.revisions)
        scratch = folder / "scratch.sqlite3"
        ours = [goldgate_check(ini, scratch) for _ in range(args.runs)]
        theirs = [alembic_round_trip(ini, scratch) for _ in range(args.runs)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    g, a = statistics.median(ours), statistics.median(theirs)
    print(f"history: {args.revisions} revisions, SQLite scratch, median of {args.runs} runs (fresh processes)")
    print(f"{'alembic upgrade head + downgrade base':<44} {a:7.2f} s")
    print(f"{'goldgate check migrations':<44} {g:7.2f} s")
    print(f"{'ratio goldgate / alembic':<44} {g / a:7.2f} x   (aim <= 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
