"""The bot's database across two regions: a PostgreSQL primary and its hot standby.

Made with Debian's own server binaries, as a team would build one: ``initdb`` for the
primary (``wal_level=replica``, WAL senders, a replication slot so the standby never
falls off the retained WAL), ``pg_basebackup -R`` for the standby (which writes
``primary_conninfo`` and ``standby.signal``), both on loopback ports under the
sandbox's state folder. ``promote`` is ``pg_ctl promote`` — what a failover does to the
database — and ``pause_replication`` is the lagging-standby fault: replay paused with
``pg_wal_replay_pause()`` and the WAL receiver disconnected, so WAL written on the
primary after the pause never reaches the standby and a failover loses it, as a standby
that fell behind does. (Pausing replay alone would not: promotion replays every WAL
record already received.)

The order database archives its write-ahead log as point-in-time recovery needs
(``archive_mode = on``, an ``archive_command`` copying each finished segment into
``wal-archive/`` beside the two data folders, which both servers share so a promoted
standby keeps the same archive). Segments are 1 MB (``initdb --wal-segsize=1``) and a
segment is closed at least every :data:`ARCHIVE_TIMEOUT_S`, so the archive keeps up with a
quiet database without filling the disk. The settings are written into
``postgresql.conf`` rather than the command line, so ``ALTER SYSTEM`` can change them as it
can on any server (a rehearsal breaks the command that way). ``track_commit_timestamp``
is on, so the commit time of the release's migration (the ``alembic_version`` row's
transaction) can be read back.

The servers refuse to run as root, so under root every command runs as ``postgres``
(``runuser``) and the folders are handed to that user.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

import psutil

PG_BIN_ENV = "GOLDGATE_PG_BIN"
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
INSTALL_HINT = "apt-get install postgresql"
#: Bounds for each server command: initdb and base backups of an empty cluster take ~2 s.
COMMAND_TIMEOUT_S = 90.0
CONNECT_TIMEOUT_S = 3
SLOT = "standby_region"
#: A quiet primary still closes and archives a segment this often (seconds).
ARCHIVE_TIMEOUT_S = 10
WAL_ARCHIVE = "wal-archive"


class PostgresError(RuntimeError):
    """A server command failed; the message names the command, the folder and the cause."""


def pg_bin() -> pathlib.Path:
    return pathlib.Path(os.environ.get(PG_BIN_ENV, DEFAULT_PG_BIN))


def binaries_present() -> bool:
    return all((pg_bin() / name).is_file() for name in ("initdb", "pg_ctl", "pg_basebackup"))


@dataclass(frozen=True)
class PgServer:
    """One server of the pair: its role at creation, data folder and loopback port."""

    name: str
    root: pathlib.Path
    port: int

    @property
    def data_dir(self) -> pathlib.Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> pathlib.Path:
        return self.root / "sock"

    @property
    def log_file(self) -> pathlib.Path:
        return self.root / "server.log"

    @property
    def wal_archive(self) -> pathlib.Path:
        """The WAL archive both servers of the pair copy their finished segments into."""
        return self.root.parent / WAL_ARCHIVE

    @property
    def url(self) -> str:
        """The SQLAlchemy URL the bot's ``DATABASE_URL`` takes (no password: loopback trust)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout={CONNECT_TIMEOUT_S}"


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], where: pathlib.Path, timeout: float = COMMAND_TIMEOUT_S) -> str:
    name = pathlib.Path(cmd[0]).name
    try:
        done = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise PostgresError(f"{cmd[0]} not found: install the server binaries ({INSTALL_HINT}) "
                            f"or set {PG_BIN_ENV}") from None
    except subprocess.TimeoutExpired:
        raise PostgresError(f"{name} for {where} did not finish within {timeout:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-400:]
        raise PostgresError(f"{name} for {where} failed (exit {done.returncode}): {tail}")
    return done.stdout


def _hand_to_postgres(*folders: pathlib.Path) -> None:
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")


def _options(server: PgServer) -> str:
    settings = {
        "listen_addresses": "127.0.0.1",
        "wal_level": "replica",
        "max_wal_senders": "5",
        "max_replication_slots": "5",
        "hot_standby": "on",
        "fsync": "off",
        "wal_receiver_status_interval": "1",
    }
    return f"-p {server.port} -k {server.socket_dir} " + " ".join(f"-c {k}={v}" for k, v in settings.items())


def start(server: PgServer, timeout: float = COMMAND_TIMEOUT_S) -> None:
    """``pg_ctl start`` and wait until it accepts connections (``-w``)."""
    _run([str(pg_bin() / "pg_ctl"), "-D", str(server.data_dir), "-o", _options(server), "-l", str(server.log_file),
          "-w", "-t", str(int(timeout)), "start"], server.data_dir, timeout + 10)


def stop(server: PgServer, mode: str = "fast") -> bool:
    """Stop the server if it runs; falls back to SIGKILL of its postmaster. True if one ran."""
    if not postmaster_pid(server):
        return False
    with contextlib.suppress(PostgresError):
        _run([str(pg_bin() / "pg_ctl"), "-D", str(server.data_dir), "-m", mode, "-w", "-t", "30", "stop"],
             server.data_dir, 40)
    pid = postmaster_pid(server)
    if pid:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            children = proc.children(recursive=True)
            for each in [proc, *children]:
                with contextlib.suppress(psutil.Error):
                    each.send_signal(signal.SIGKILL)
            psutil.wait_procs([proc, *children], timeout=5)
    return True


def postmaster_pid(server: PgServer) -> int | None:
    """The running postmaster of the data folder, read from ``postmaster.pid`` and checked."""
    try:
        pid = int((server.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        if proc.status() != psutil.STATUS_ZOMBIE and str(server.data_dir) in " ".join(proc.cmdline()):
            return pid
    return None


def archiving_settings(server: PgServer) -> str:
    """The ``postgresql.conf`` lines that archive every finished WAL segment (never overwriting one)."""
    archive = server.wal_archive
    return ("\n# Point-in-time recovery: every finished WAL segment is copied into the archive.\n"
            "archive_mode = on\n"
            f"archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n"
            f"archive_timeout = {ARCHIVE_TIMEOUT_S}\n"
            "# Query statistics for the database metrics of guide §8.3 (latency per statement).\n"
            "shared_preload_libraries = 'pg_stat_statements'\n")


#: Each transaction's commit time is kept (``pg_xact_commit_timestamp``), so the time the
#: deploy pipeline's migration committed can be read back from ``alembic_version``'s row.
#: Read at server start only: it is written before the first start.
COMMIT_TIMESTAMPS = ("# When each transaction committed (the migration's commit time, read by the "
                     "post-migration watch).\ntrack_commit_timestamp = on\n")


def init_primary(server: PgServer) -> None:
    """``initdb`` (trust on loopback, replication allowed, archiving on) and start; creates the slot."""
    _hand_to_postgres(server.root, server.socket_dir, server.wal_archive)
    _run([str(pg_bin() / "initdb"), "-D", str(server.data_dir), "-A", "trust", "-U", "postgres", "-E", "UTF8",
          "--no-sync", "--wal-segsize=1"], server.data_dir)
    _append_conf(server, archiving_settings(server) + COMMIT_TIMESTAMPS)
    start(server)
    sql(server, f"SELECT pg_create_physical_replication_slot('{SLOT}')")
    sql(server, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def _append_conf(server: PgServer, lines: str) -> None:
    """Append to the server's ``postgresql.conf`` (written by initdb as the server's user)."""
    conf = server.data_dir / "postgresql.conf"
    try:
        with conf.open("a", encoding="utf-8") as fh:
            fh.write(lines)
    except OSError as exc:
        raise PostgresError(f"cannot write {conf}: {exc}") from None


def clone_standby(primary: PgServer, standby: PgServer) -> None:
    """``pg_basebackup -R`` from the primary into the standby's folder, then start it."""
    _hand_to_postgres(standby.root, standby.socket_dir)
    _run([str(pg_bin() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
          "-D", str(standby.data_dir), "-R", "-X", "stream", "-S", SLOT, "--no-sync", "-c", "fast"], standby.data_dir)
    start(standby)


def sql(server: PgServer, statement: str, timeout: float = 10.0) -> list[tuple[object, ...]]:
    """One statement in autocommit (psycopg, bounded connect and statement time)."""
    import psycopg

    try:
        with psycopg.connect(server.dsn, autocommit=True,
                             options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
            cur = conn.execute(statement)  # type: ignore[arg-type] - statements are this module's own
            return list(cur.fetchall()) if cur.description else []
    except psycopg.Error as exc:
        raise PostgresError(f"{server.name} PostgreSQL on 127.0.0.1:{server.port}: {exc}".strip()) from None


def in_recovery(server: PgServer) -> bool:
    return bool(sql(server, "SELECT pg_is_in_recovery()")[0][0])


def promote(server: PgServer, timeout: float = 30.0) -> None:
    """``pg_ctl promote -w``: the standby ends recovery and takes writes."""
    _run([str(pg_bin() / "pg_ctl"), "-D", str(server.data_dir), "-w", "-t", str(int(timeout)), "promote"],
         server.data_dir, timeout + 10)


def pause_replication(standby: PgServer) -> None:
    """The lagging-standby fault: replay paused and the WAL receiver cut off."""
    sql(standby, "ALTER SYSTEM SET primary_conninfo = ''")
    sql(standby, "SELECT pg_reload_conf()")
    deadline = time.monotonic() + 15.0
    while sql(standby, "SELECT count(*) FROM pg_stat_wal_receiver")[0][0]:
        if time.monotonic() > deadline:
            raise PostgresError(f"standby on 127.0.0.1:{standby.port}: WAL receiver still connected 15s after "
                                "primary_conninfo was cleared")
        time.sleep(0.1)
    sql(standby, "SELECT pg_wal_replay_pause()")


def resume_replication(standby: PgServer, primary: PgServer) -> None:
    """Undo :func:`pause_replication`: reconnect to ``primary`` and replay again."""
    sql(standby, "ALTER SYSTEM RESET primary_conninfo")
    sql(standby, "SELECT pg_reload_conf()")
    sql(standby, "SELECT pg_wal_replay_resume()")


def replay_lag_bytes(primary: PgServer, standby: PgServer) -> int:
    """How far the standby's replay is behind the primary's current WAL position."""
    current = sql(primary, "SELECT pg_current_wal_lsn()")[0][0]
    lag = sql(standby, f"SELECT pg_wal_lsn_diff('{current}', pg_last_wal_replay_lsn())")[0][0]
    return int(lag or 0)


def wait_caught_up(primary: PgServer, standby: PgServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    lag = -1
    while time.monotonic() < deadline:
        with contextlib.suppress(PostgresError):
            lag = replay_lag_bytes(primary, standby)
            if lag <= 0:
                return
        time.sleep(0.2)
    raise PostgresError(f"standby on 127.0.0.1:{standby.port} still {lag} bytes behind after {timeout:.0f}s")


def rebuild_standby(new_primary: PgServer, standby: PgServer) -> None:
    """Failback groundwork: wipe the old server's folder and re-clone it from ``new_primary``."""
    stop(standby, mode="immediate")
    shutil.rmtree(standby.data_dir, ignore_errors=True)
    with contextlib.suppress(PostgresError):
        sql(new_primary, f"SELECT pg_create_physical_replication_slot('{SLOT}')")
    clone_standby(new_primary, standby)
