"""The order database's backup job, as a team's cron job would run it (guide §3.3).

At start of the two regions (and whenever :func:`run` is called again) it takes a backup
of the primary region's PostgreSQL with ``pg_dump`` in an exported snapshot, with the row
counts of that snapshot (:func:`goldgate.probes.pg_backup.take_backup`), verifies it by a
real ``pg_restore`` into a scratch database (:func:`~goldgate.probes.pg_backup.verify_backup`,
which appends the verification log), and ships the archive to the secondary region's
backup store with the same catalogue entry. Nothing here is back-dated: every time in the
catalogue and the log is when the tool ran.
"""

from __future__ import annotations

import json
import pathlib
import shutil

from goldgate.probes.pg_backup import CATALOGUE, take_backup, verify_backup

PRIMARY_STORE = "backups"
SECONDARY_STORE = "backups-secondary"


def stores(where: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """(the primary region's backup folder, the secondary region's copy)."""
    return where / PRIMARY_STORE, where / SECONDARY_STORE


def _ship(entry: dict[str, object], source: pathlib.Path, target: pathlib.Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    name = str(entry["file"])
    shutil.copy2(source / name, target / name)
    shutil.copy2(source / f"{name}.sha256", target / f"{name}.sha256")
    catalogue = target / CATALOGUE
    entries = json.loads(catalogue.read_text(encoding="utf-8"))["backups"] if catalogue.is_file() else []
    catalogue.write_text(json.dumps({"backups": [*entries, entry]}, indent=2), encoding="utf-8")


def run(where: pathlib.Path, database_url: str) -> dict[str, object]:
    """One run of the job: back up, verify, ship. Returns the catalogue entry."""
    primary, secondary = stores(where)
    entry = take_backup(database_url, primary)
    verify_backup(primary, entry, database_url)
    _ship(entry, primary, secondary)
    return entry
