"""The reference bot's release, materialised: source project, CI artifacts and operations.

A release is a source project plus its CI artifacts plus a release manifest. The sandbox
ships the reference bot's project as data (``sandbox/project``); :func:`materialise` copies
it into a work folder, plants the named faults of :mod:`goldgate.sandbox.release_faults`
and then produces the evidence the pre-deployment checklist reads, for real:

* ``artifacts/`` — the project's tests run under pytest + coverage (JUnit XML, Cobertura
  XML) and bandit's SARIF report. These take seconds, so they are cached under
  ``cache_dir`` keyed by a hash of the files they depend on: a fault that does not touch
  code reuses the healthy artifacts.
* ``ops/`` — the live order database, its backups with a catalogue (row counts, time
  taken), the PostgreSQL settings that enable point-in-time recovery, and a TLS
  certificate chain for the loopback TLS endpoint.

Time-dependent facts (deployment window, backup age, certificate validity, flag cleanup
dates) are written relative to the ``now`` passed in, so a test can pin the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_SOURCE = Path(__file__).with_name("project")
#: Alert rules and their promtool tests live in the suite's deploy/ folder; the release
#: project carries a copy so a fault can plant an untested rule without touching deploy/.
ALERT_RULES_SOURCE = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
#: The bot's real manifests, which the sandbox cluster applies; their production.yaml is
#: production's spec for "staging matches production" (applied live beside the release).
K8S_SOURCE = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
#: Files whose content decides the CI artifacts; anything else may change freely.
ARTIFACT_INPUTS = ("trading_bot", "tests", "pyproject.toml")
ORDER_ROWS = 120
ARTIFACT_TIMEOUT_S = 120


class ReleaseError(Exception):
    """The release could not be materialised; the message names the step and the path."""


@dataclass(frozen=True)
class Workspace:
    """Where one materialised release lives."""

    root: Path
    faults: tuple[str, ...]

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def ops(self) -> Path:
        return self.root / "ops"

    @property
    def manifest(self) -> Path:
        return self.project / "release.yaml"

    @property
    def database(self) -> Path:
        return self.ops / "orders.sqlite3"

    @property
    def backups(self) -> Path:
        return self.ops / "backups"

    @property
    def postgresql_conf(self) -> Path:
        return self.ops / "postgresql.conf"

    @property
    def tls(self) -> Path:
        return self.ops / "tls"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def materialise(dest: Path, faults: Iterable[str] = (), *, cache_dir: Path | None = None,
                now: dt.datetime | None = None, database_url: str | None = None) -> Workspace:
    """Build the release in ``dest`` (emptied first) with ``faults`` planted.

    With ``database_url`` (PostgreSQL) the order database lives there and its backups are
    ``pg_dump`` archives; otherwise it is ``ops/orders.sqlite3`` with SQLite backups.
    """
    from goldgate.sandbox import release_faults

    now = now or dt.datetime.now(dt.UTC)
    names = tuple(sorted(set(faults)))
    unknown = [n for n in names if n not in release_faults.RELEASE_FAULTS]
    if unknown:
        known = ", ".join(sorted(release_faults.RELEASE_FAULTS))
        raise ReleaseError(f"unknown release fault(s) {', '.join(unknown)} (known: {known})")
    if dest.exists():
        shutil.rmtree(dest)
    ws = Workspace(dest, names)
    shutil.copytree(PROJECT_SOURCE, ws.project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".coverage"))
    if ALERT_RULES_SOURCE.is_dir():
        shutil.copytree(ALERT_RULES_SOURCE, ws.project / "deploy" / "prometheus")
    if K8S_SOURCE.is_dir() and any(K8S_SOURCE.glob("*.y*ml")):
        shutil.rmtree(ws.project / "deploy" / "k8s")
        shutil.copytree(K8S_SOURCE, ws.project / "deploy" / "k8s")
    _render_dates(ws, now)
    ws.ops.mkdir(parents=True)
    _create_database(f"sqlite:///{ws.database}" if database_url is None else database_url)
    _create_backups(ws, now, database_url)
    _write_postgresql_conf(ws.postgresql_conf)
    create_tls(ws.tls, now)
    for name in names:
        release_faults.RELEASE_FAULTS[name].apply(ws, now)
    produce_artifacts(ws, cache_dir)
    return ws


# ----------------------------------------------------------------------------- dates
def _render_dates(ws: Workspace, now: dt.datetime) -> None:
    manifest = yaml.safe_load(ws.manifest.read_text(encoding="utf-8"))
    manifest["deployment_window"] = {"start": iso(now - dt.timedelta(hours=1)), "end": iso(now + dt.timedelta(hours=3))}
    for i, approval in enumerate(manifest.get("approvals", [])):
        approval["approved_at"] = iso(now - dt.timedelta(hours=20 - i))
    _render_readiness(ws, manifest, now)
    write_yaml(ws.manifest, manifest)
    flags_file = ws.project / "config" / "flags.yaml"
    flags = yaml.safe_load(flags_file.read_text(encoding="utf-8"))
    for i, flag in enumerate(flags["flags"]):
        flag["cleanup_by"] = (now + dt.timedelta(days=120 + 60 * i)).date().isoformat()
    write_yaml(flags_file, flags)


def _render_readiness(ws: Workspace, manifest: dict, now: dt.datetime) -> None:
    """§1.3 evidence: a live channel, a notice the day before, on-call over the window.

    No rollback rehearsal is written: "rollback procedure tested" reads the rollbacks goldgate
    really did (the run's audit trail), never a record made up for it.
    """
    from goldgate.sandbox.chat import webhook_url

    manifest.setdefault("communication", {})["url"] = webhook_url()
    for note in manifest.get("notifications", []):
        note["sent_at"] = iso(now - dt.timedelta(hours=18))
    for shift in manifest.get("on_call_schedule", []):
        shift["start"], shift["end"] = iso(now - dt.timedelta(hours=2)), iso(now + dt.timedelta(hours=6))


def write_yaml(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


# ----------------------------------------------------------------------------- database
def _create_database(url: str) -> None:
    """The live order database at the previous release's data, through the bot's schema."""
    from sqlalchemy import create_engine, insert

    from goldgate.sandbox.bot.db import metadata, orders

    engine = create_engine(url)
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        base = dt.datetime(2026, 11, 1, 9, 0)
        rows = [
            {
                "client_order_id": f"seed-{i:04d}",
                "symbol": "XAUUSD" if i % 5 else "XAGUSD",
                "side": "BUY" if i % 2 else "SELL",
                "volume": round(0.1 + (i % 7) * 0.05, 2),
                "price": round(2350 + (i % 13) * 0.75, 2),
                "status": "FILLED",
                "created_at": base + dt.timedelta(minutes=7 * i),
            }
            for i in range(ORDER_ROWS)
        ]
        with engine.begin() as conn:
            conn.execute(insert(orders), rows)
    finally:
        engine.dispose()


def backup_sqlite(source: Path, target: Path) -> dict[str, int]:
    """An online, consistent copy through SQLite's backup API; returns row counts per table."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        tables = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {t: int(src.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}  # noqa: S608 - names from sqlite_master
    finally:
        dst.close()
        src.close()


def _create_backups(ws: Workspace, now: dt.datetime, database_url: str | None) -> None:
    """A base backup eight days old (the PITR window) and the latest hourly backup."""
    from goldgate.probes.database import count_rows, pg_dump

    entries = []
    for kind, age in (("base", dt.timedelta(days=8)), ("full", dt.timedelta(minutes=20))):
        taken = now - age
        stem = f"orders-{kind}-{taken.strftime('%Y%m%dT%H%M%SZ')}"
        if database_url is None:
            name = f"{stem}.sqlite3"
            counts = backup_sqlite(ws.database, ws.backups / name)
        else:
            name = f"{stem}.dump"
            ws.backups.mkdir(parents=True, exist_ok=True)
            pg_dump(database_url, ws.backups / name)
            counts = count_rows(database_url)
        entries.append({"file": name, "kind": kind, "taken_at": iso(taken), "tables": counts})
    write_catalogue(ws.backups, entries)


def write_catalogue(backups: Path, entries: list[dict[str, object]]) -> None:
    (backups / "catalogue.json").write_text(json.dumps({"backups": entries}, indent=2), encoding="utf-8")


def _write_postgresql_conf(path: Path) -> None:
    path.write_text(
        "# Settings of the order database that point-in-time recovery depends on.\n"
        "wal_level = replica\n"
        "archive_mode = on\n"
        "archive_command = 'test ! -f /var/lib/wal-archive/%f && cp %p /var/lib/wal-archive/%f'\n"
        "archive_timeout = 300\n",
        encoding="utf-8",
    )


# ----------------------------------------------------------------------------- TLS
def create_tls(folder: Path, now: dt.datetime, *, not_before: dt.datetime | None = None,
               not_after: dt.datetime | None = None, hostnames: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
    """A private CA and a server certificate it signs (files ca.pem, server.pem, server.key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trading-bot release CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=365)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    (folder / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    os.chmod(folder / "server.key", 0o600)


# ----------------------------------------------------------------------------- artifacts
def artifact_key(project: Path) -> str:
    """Hash of every file the CI artifacts depend on (paths and contents)."""
    digest = hashlib.sha256()
    for name in ARTIFACT_INPUTS:
        base = project / name
        files = sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if base.is_dir() else [base]
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(project)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def produce_artifacts(ws: Workspace, cache_dir: Path | None) -> None:
    """Run the project's CI (tests with coverage, bandit) or reuse a cached result."""
    key = artifact_key(ws.project)
    cached = cache_dir / key if cache_dir else None
    if cached is not None and (cached / "junit.xml").is_file():
        shutil.copytree(cached, ws.artifacts)
        return
    scratch = Path(tempfile.mkdtemp(prefix="artifacts-", dir=ws.root))
    run_ci(ws.project, scratch)
    if cached is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache_dir))
        shutil.copytree(scratch, staging, dirs_exist_ok=True)
        try:
            staging.rename(cached)
        except OSError:  # another run cached the same key first; theirs is as good
            shutil.rmtree(staging, ignore_errors=True)
    scratch.rename(ws.artifacts)


def run_ci(project: Path, out: Path) -> None:
    """The project's CI steps, producing junit.xml, coverage.xml and bandit.sarif in ``out``."""
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # the project's pytest, not goldgate's plugins
        "PYTHONDONTWRITEBYTECODE": "1",
        "COVERAGE_FILE": str(out / ".coverage"),
    }
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_PLUGINS", None)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "pytest_cov", "-p", "no:cacheprovider",
         "--rootdir", str(project), "-c", str(project / "pyproject.toml"),
         f"--junitxml={out / 'junit.xml'}", "--cov=trading_bot", f"--cov-report=xml:{out / 'coverage.xml'}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=ARTIFACT_TIMEOUT_S, check=False,
    )
    (out / "pytest.log").write_text(tests.stdout + tests.stderr, encoding="utf-8")
    if not (out / "junit.xml").is_file():
        raise ReleaseError(f"{project}: the project's tests produced no JUnit report (exit {tests.returncode}): "
                           f"{(tests.stdout + tests.stderr)[-500:]}")
    scan = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", "trading_bot", "-f", "sarif", "-o", str(out / "bandit.sarif")],
        cwd=project, env=env, capture_output=True, text=True, timeout=ARTIFACT_TIMEOUT_S, check=False,
    )
    if not (out / "bandit.sarif").is_file() and "sarif" in scan.stderr:
        # bandit's SARIF formatter needs the bandit[sarif] extra; without it, convert its JSON.
        scan = subprocess.run(
            [sys.executable, "-m", "bandit", "-q", "-r", "trading_bot", "-f", "json", "-o", str(out / "bandit.json")],
            cwd=project, env=env, capture_output=True, text=True, timeout=ARTIFACT_TIMEOUT_S, check=False,
        )
        if (out / "bandit.json").is_file():
            sarif = bandit_json_to_sarif(json.loads((out / "bandit.json").read_text(encoding="utf-8")))
            (out / "bandit.sarif").write_text(json.dumps(sarif, indent=2), encoding="utf-8")
            (out / "bandit.json").unlink()
    if not (out / "bandit.sarif").is_file():
        raise ReleaseError(f"{project}: bandit produced no SARIF report (exit {scan.returncode}): {scan.stderr[-500:]}")
    (out / ".coverage").unlink(missing_ok=True)


_SARIF_LEVEL = {"HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def bandit_json_to_sarif(report: dict[str, object]) -> dict[str, object]:
    """bandit's JSON report as SARIF 2.1.0, keeping its own severity as a result property."""
    results = []
    rules: dict[str, dict[str, object]] = {}
    for issue in report.get("results") or []:  # type: ignore[union-attr]
        rule = str(issue["test_id"])
        rules.setdefault(rule, {"id": rule, "name": issue.get("test_name", rule)})
        results.append({
            "ruleId": rule,
            "level": _SARIF_LEVEL.get(str(issue.get("issue_severity")), "warning"),
            "message": {"text": issue.get("issue_text", "")},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": issue.get("filename", "?")},
                                                "region": {"startLine": issue.get("line_number", 1)}}}],
            "properties": {"issue_severity": issue.get("issue_severity"), "issue_confidence": issue.get("issue_confidence")},
        })
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "Bandit", "rules": list(rules.values())}}, "results": results}],
    }
