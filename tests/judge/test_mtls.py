"""Mutual TLS in place of the bearer token: uvicorn with ``CERT_REQUIRED`` and the environment's client CA.

Certificates are made here (cryptography): a CA, the judge's certificate for 127.0.0.1, a
client certificate the CA signed and one a stranger's CA signed. The judge (scripted
monitors, tests/judge/fakes.py) listens with the options ``goldgate serve`` uses
(:func:`goldgate.judge.tls.uvicorn_tls`), its key given as a secret reference.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from goldgate.config import JudgeTls, load_environment
from goldgate.judge.app import create_app
from goldgate.judge.tls import TlsSetupError, uvicorn_tls
from goldgate.sandbox.ports import free_port
from tests.judge.fakes import scripted_judge

ROOT = Path(__file__).resolve().parents[2]
BODY = {"namespace": "trading", "workload": "pass-bot", "revision": "6f9c8d7b5"}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool = False, ip: str | None = None) -> bytes:
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    return b.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    out: dict[str, Path] = {}
    ca_key, stranger_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    for name, data in {
        "ca.pem": _cert("goldgate test CA", ca_key, "goldgate test CA", ca_key, ca=True),
        "stranger-ca.pem": _cert("stranger CA", stranger_key, "stranger CA", stranger_key, ca=True),
    }.items():
        (d / name).write_bytes(data)
        out[name] = d / name
    for who, issuer, issuer_key, ip in (("server", "goldgate test CA", ca_key, "127.0.0.1"),
                                        ("client", "goldgate test CA", ca_key, None),
                                        ("rogue", "stranger CA", stranger_key, None)):
        key = ec.generate_private_key(ec.SECP256R1())
        (d / f"{who}.pem").write_bytes(_cert(who, key, issuer, issuer_key, ip=ip))
        (d / f"{who}.key").write_bytes(_key_pem(key))
        out[f"{who}.pem"], out[f"{who}.key"] = d / f"{who}.pem", d / f"{who}.key"
    return out


@pytest.fixture(scope="module")
def judge_url(pki: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("GOLDGATE_TEST_JUDGE_TLS_KEY", pki["server.key"].read_text())
    env = load_environment("local", ROOT / "environments")
    tls = JudgeTls(cert=str(pki["server.pem"]), key="env:GOLDGATE_TEST_JUDGE_TLS_KEY", client_ca=str(pki["ca.pem"]))
    judge = scripted_judge(env, tmp_path_factory.mktemp("mtls") / "runs.sqlite3", lambda g: "PASS", monkeypatch)
    port = free_port()
    with uvicorn_tls(tls) as options:
        assert Path(options["ssl_keyfile"]).stat().st_mode & 0o077 == 0  # the resolved key: owner only
        server = uvicorn.Server(uvicorn.Config(create_app(judge, token=None, client_certs=True), host="127.0.0.1",
                                               port=port, log_level="error", **options))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the judge did not start"
            time.sleep(0.05)
        try:
            yield f"https://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            monkeypatch.undo()


def _post(url: str, pki: dict[str, Path], cert: str | None) -> httpx.Response:
    ctx = ssl.create_default_context(cafile=str(pki["ca.pem"]))  # the client trusts the judge's CA
    if cert:
        ctx.load_cert_chain(str(pki[f"{cert}.pem"]), str(pki[f"{cert}.key"]))
    with httpx.Client(verify=ctx, timeout=5) as c:
        return c.post(url + "/v1/argo", json=BODY)


def test_a_client_with_a_certificate_the_ca_signed_is_answered(judge_url: str, pki: dict[str, Path]) -> None:
    for _ in range(20):  # the run's first evaluation
        r = _post(judge_url, pki, "client")
        if r.json().get("evidence", {}).get("evaluations"):
            break
    assert r.status_code == 200 and r.json()["verdict"] == "PASS", r.text  # no bearer token sent


@pytest.mark.parametrize("cert", [None, "rogue"], ids=["no-certificate", "stranger-ca"])
def test_a_client_without_a_signed_certificate_is_refused_before_http(judge_url: str, pki: dict[str, Path],
                                                                      cert: str | None) -> None:
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        _post(judge_url, pki, cert)


def test_plain_http_gets_no_verdict(judge_url: str) -> None:
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
        httpx.post(judge_url.replace("https:", "http:") + "/v1/argo", json=BODY, timeout=5)


def test_bad_tls_settings_are_one_line_naming_the_field(pki: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the PEM itself"):
        JudgeTls(cert=pki["server.pem"].read_text(), key=str(pki["server.key"]))
    with pytest.raises(TlsSetupError, match=r"judge\.tls\.key: no file"), \
            uvicorn_tls(JudgeTls(cert=str(pki["server.pem"]), key=str(tmp_path / "missing.key"))):
        pass
    with pytest.raises(TlsSetupError, match=r"judge\.tls\.cert/key") as err, \
            uvicorn_tls(JudgeTls(cert=str(pki["server.pem"]), key=str(pki["client.key"]))):
        pass
    assert "PRIVATE KEY" not in str(err.value)
