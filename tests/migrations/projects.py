"""Alembic projects made by alembic itself inside the test: ``alembic init`` (generic
template) through its CLI, revisions through its command API (``revision``, ``--head base
--branch-label``, ``merge``), then the bodies of upgrade()/downgrade() filled in."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ALEMBIC = [sys.executable, "-m", "alembic"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def indent(body: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in body.strip("\n").splitlines())


@dataclass
class Project:
    """One generated project: its folder, its ini, and the revisions made so far (oldest first)."""

    root: Path
    revisions: list[str] = field(default_factory=list)

    @property
    def ini(self) -> Path:
        return self.root / "alembic.ini"

    def config(self):
        from alembic.config import Config

        cfg = Config(str(self.ini))
        cfg.config_file_name = str(self.ini)
        return cfg

    def set_url(self, url: str) -> None:
        """The ``sqlalchemy.url`` a team keeps in alembic.ini (their own database)."""
        text = self.ini.read_text(encoding="utf-8")
        self.ini.write_text(text.replace("sqlalchemy.url = driver://user:pass@localhost/dbname",
                                         f"sqlalchemy.url = {url}"), encoding="utf-8")

    def revision(self, message: str, upgrade: str = "pass", downgrade: str = "pass", *, head: str = "head",
                 branch_label: str | None = None) -> str:
        from alembic import command

        script = command.revision(self.config(), message=message, head=head, branch_label=branch_label)
        assert script is not None
        path = Path(script.path)
        text = path.read_text(encoding="utf-8")
        text = text.replace('    """Upgrade schema."""\n    pass', f'    """Upgrade schema."""\n{indent(upgrade)}')
        text = text.replace('    """Downgrade schema."""\n    pass', f'    """Downgrade schema."""\n{indent(downgrade)}')
        path.write_text(text, encoding="utf-8")
        self.revisions.append(script.revision)
        return script.revision

    def merge(self, message: str, revisions: list[str]) -> str:
        from alembic import command

        script = command.merge(self.config(), revisions, message=message)
        self.revisions.append(script.revision)
        return script.revision

    def file_of(self, revision: str) -> Path:
        return next((self.root / "alembic" / "versions").glob(f"{revision}_*.py"))


def init(folder: Path, *, url: str = "driver://user:pass@localhost/dbname") -> Project:
    """``alembic init alembic`` with the generic template, run by the real CLI in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([*ALEMBIC, "init", "--template", "generic", "alembic"], cwd=folder, check=True,
                   capture_output=True, text=True, timeout=60)
    project = Project(folder)
    project.set_url(url)
    return project


ORDERS = 'op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True), ' \
         'sa.Column("symbol", sa.String(16), nullable=False))'
DROP_ORDERS = 'op.drop_table("orders")'


def orders_project(folder: Path, **kw: str) -> Project:
    """A two-revision history that is healthy: create a table, add a nullable column with an index."""
    project = init(folder, **kw)
    project.revision("create orders table for paper trades", ORDERS, DROP_ORDERS)
    project.revision(
        "add client order id for idempotent orders",
        'op.add_column("orders", sa.Column("client_order_id", sa.String(64), nullable=True))\n'
        'op.create_index("ix_orders_client_order_id", "orders", ["client_order_id"], unique=True)',
        'op.drop_index("ix_orders_client_order_id", table_name="orders")\n'
        'with op.batch_alter_table("orders") as batch:\n    batch.drop_column("client_order_id")')
    return project


@dataclass(frozen=True)
class CheckRun:
    returncode: int
    stdout: str
    stderr: str


def check(*argv: str) -> CheckRun:
    """``goldgate check migrations ARGV…`` in this process, output captured.

    The parser is built the way ``goldgate.checks.cli`` builds it, for this kind only, so a
    half-finished sibling check module cannot stop these tests.
    """
    import argparse
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from goldgate.checks import cli
    from goldgate.checks import migrations as module
    from goldgate.checks.output import FORMATS

    parser = argparse.ArgumentParser(prog="goldgate check migrations")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--verbose", action="store_true")
    module.add_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli._run(module, "migrations", parser.parse_args(list(argv)))
    return CheckRun(code, out.getvalue(), err.getvalue())
