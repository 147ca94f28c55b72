"""``vault:PATH#KEY`` through the real hvac client.

Vault itself is not installable here, so these tests run hvac against
:mod:`tests.secrets.vault_double`, a small HTTP double of the KV v2 / v1 read endpoints,
the token lookup and the Kubernetes login. Timeouts (a blackholed port), bounded retries,
refused connections, TLS with a CA bundle, 403, 404, missing keys and redaction are all
exercised for real against loopback sockets.
"""

from __future__ import annotations

import pathlib
import tempfile
from collections.abc import Iterator

import pytest

from goldgate.config import Timeouts
from goldgate.report import redact
from goldgate.secrets import SecretResolutionError, SecretResolver, SecretsConfig, VaultSettings
from tests.secrets.blackhole import Blackhole, closed_port
from tests.secrets.vault_double import VaultDouble, VaultState

TOKEN = "hvs.CanaryVaultToken-3c1d9e"
API_TOKEN = "CanaryApiToken-vault-91ab4f"
DB_URL_PASSWORD = "CanaryDbPass-vault-77e0"
FAST = Timeouts(connect_s=0.5, read_s=0.5, retries=2, backoff_s=0.01)


def _state() -> VaultState:
    return VaultState(
        secrets={
            ("secret", "trading-bot/staging"): {
                "api_token": API_TOKEN,
                "database_url": f"postgresql://bot:{DB_URL_PASSWORD}@db:5432/trading",
                "port": 5432,
            },
            ("secret", "forbidden/prod"): {"api_token": "never-served-1234"},
            ("kv1", "trading-bot/legacy"): {"api_token": API_TOKEN + "-v1"},
        },
        tokens={TOKEN: ["secret/trading-bot/", "kv1/trading-bot/"]},
        roles={("kubernetes", "goldgate-gate"): ("sa-jwt-CanaryServiceAccount-5d", ["secret/trading-bot/"])},
    )


@pytest.fixture
def vault() -> Iterator[VaultDouble]:
    with VaultDouble(_state()) as double:
        yield double


def _resolver(address: str, environ: dict[str, str] | None = None, timeouts: Timeouts = FAST,
              **vault: object) -> SecretResolver:
    settings = SecretsConfig(vault=VaultSettings(address=address, **vault))
    env = {"VAULT_TOKEN": TOKEN, "HOME": "/nonexistent"} if environ is None else environ
    return SecretResolver(settings, timeouts=timeouts, environ=env)


def test_kv2_reads_one_key_and_fetches_each_secret_once(vault: VaultDouble) -> None:
    r = _resolver(vault.url)
    assert r.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
    assert r.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
    assert r.resolve("vault:secret/trading-bot/staging#database_url").endswith("@db:5432/trading")
    assert r.resolve("vault:secret/trading-bot/staging#port") == "5432"
    assert vault.reads("/v1/secret/data/trading-bot/staging") == 1
    assert vault.reads("/v1/auth/token/lookup-self") == 1
    # the value, the token and the URL's password are masked from here on
    text = redact.redact(f"{API_TOKEN} {TOKEN} {DB_URL_PASSWORD}")
    assert API_TOKEN not in text and TOKEN not in text and DB_URL_PASSWORD not in text


def test_kv1_mount_and_explicit_mount(vault: VaultDouble) -> None:
    assert _resolver(vault.url, kv_version=1).resolve("vault:kv1/trading-bot/legacy#api_token") == API_TOKEN + "-v1"
    explicit = _resolver(vault.url, mount="secret")
    assert explicit.resolve("vault:trading-bot/staging#api_token") == API_TOKEN
    assert vault.reads("/v1/secret/data/trading-bot/staging") == 1


def test_address_token_and_namespace_come_from_the_usual_variables(vault: VaultDouble) -> None:
    r = SecretResolver(SecretsConfig(), timeouts=FAST, environ={
        "VAULT_ADDR": vault.url, "VAULT_TOKEN": TOKEN, "VAULT_NAMESPACE": "trading/desk"})
    assert r.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
    assert {e["namespace"] for e in vault.state.log} == {"trading/desk"}
    assert {e["token"] for e in vault.state.log} == {TOKEN}


def test_kubernetes_auth_logs_in_with_the_service_account_token(vault: VaultDouble, tmp_path: pathlib.Path) -> None:
    jwt = tmp_path / "token"
    jwt.write_text("sa-jwt-CanaryServiceAccount-5d\n")
    r = _resolver(vault.url, environ={}, auth="kubernetes", role="goldgate-gate", jwt_path=str(jwt))
    assert r.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
    assert vault.reads("/v1/auth/kubernetes/login") == 1
    issued = vault.state.log[-1]["token"]
    assert issued.startswith("hvs.issued-by-double-")
    assert "sa-jwt-CanaryServiceAccount-5d" not in redact.redact("jwt sa-jwt-CanaryServiceAccount-5d")
    assert issued not in redact.redact(f"token {issued}")


def test_kubernetes_auth_on_another_path_and_its_refusals(vault: VaultDouble, tmp_path: pathlib.Path) -> None:
    vault.state.roles[("k8s-prod", "goldgate-gate")] = ("jwt-prod-abcdef", ["secret/trading-bot/"])
    jwt = tmp_path / "token"
    jwt.write_text("jwt-prod-abcdef")
    ok = _resolver(vault.url, environ={}, auth="kubernetes", role="goldgate-gate", auth_path="k8s-prod",
                   jwt_path=str(jwt))
    assert ok.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
    jwt.write_text("a-stale-jwt-000")
    bad = _resolver(vault.url, environ={}, auth="kubernetes", role="goldgate-gate", auth_path="k8s-prod",
                    jwt_path=str(jwt))
    with pytest.raises(SecretResolutionError, match=r"denied: Kubernetes login as role 'goldgate-gate' at "
                                                    r"auth/k8s-prod: HTTP 403"):
        bad.resolve("vault:secret/trading-bot/staging#api_token")
    missing = _resolver(vault.url, environ={}, auth="kubernetes", role="goldgate-gate",
                        jwt_path=str(tmp_path / "absent"))
    with pytest.raises(SecretResolutionError, match=r"cannot read the service-account JWT file .*absent"):
        missing.resolve("vault:secret/trading-bot/staging#api_token")


def test_tls_with_a_ca_bundle() -> None:
    from goldgate.sandbox.apiserver.tls import ensure_tls

    tls = ensure_tls(pathlib.Path(tempfile.mkdtemp(prefix="goldgate-vault-tls-")))
    with VaultDouble(_state(), ssl_context=tls.server_context()) as vault:
        assert vault.url.startswith("https://127.0.0.1:")
        ok = _resolver(vault.url, ca_bundle=str(tls.ca_cert))
        assert ok.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
        from_env = _resolver(vault.url, environ={"VAULT_TOKEN": TOKEN, "VAULT_CACERT": str(tls.ca_cert)})
        assert from_env.resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
        untrusted = _resolver(vault.url)
        with pytest.raises(SecretResolutionError, match=r"unreachable: auth/token/lookup-self: TLS verification .* failed"):
            untrusted.resolve("vault:secret/trading-bot/staging#api_token")
    with pytest.raises(SecretResolutionError, match=r"CA bundle /nonexistent/ca.pem does not exist"):
        _resolver("https://127.0.0.1:1", ca_bundle="/nonexistent/ca.pem").resolve("vault:secret/a#b")


@pytest.mark.parametrize(("ref", "cause"), [
    ("vault:secret/forbidden/prod#api_token",
     r"^secret reference vault:secret/forbidden/prod#api_token not resolved: denied: read secret/forbidden/prod \(KV v2\): "
     r"HTTP 403 permission denied$"),
    ("vault:secret/trading-bot/absent#api_token",
     r"^secret reference vault:secret/trading-bot/absent#api_token not resolved: missing path: no secret at "
     r"secret/trading-bot/absent on http://127.0.0.1:\d+ \(KV v2 mount 'secret'\)$"),
    ("vault:secret/trading-bot/staging#nope",
     r"^secret reference vault:secret/trading-bot/staging#nope not resolved: missing key: 'nope' is not in "
     r"secret/trading-bot/staging \(keys there: api_token, database_url, port\)$"),
    ("vault:nomount#key", r"the path must be MOUNT/PATH"),
])
def test_failures_name_the_reference_and_the_cause_never_the_value(vault: VaultDouble, ref: str, cause: str) -> None:
    with pytest.raises(SecretResolutionError, match=cause) as exc:
        _resolver(vault.url).resolve(ref)
    message = str(exc.value)
    assert API_TOKEN not in message and "never-served" not in message and TOKEN not in message
    assert redact.redact(message) == message  # the redactor's shape net leaves the explanation readable


def test_a_rejected_token_is_reported_as_such(vault: VaultDouble) -> None:
    r = _resolver(vault.url, environ={"VAULT_TOKEN": "hvs.revoked-token-42"})
    with pytest.raises(SecretResolutionError, match=r"denied: auth/token/lookup-self: HTTP 403 permission denied"):
        r.resolve("vault:secret/trading-bot/staging#api_token")
    # the login failure is remembered: the second reference costs no request
    before = len(vault.state.log)
    with pytest.raises(SecretResolutionError, match=r"secret reference vault:secret/trading-bot/staging#port not resolved: denied"):
        r.resolve("vault:secret/trading-bot/staging#port")
    assert len(vault.state.log) == before


def test_no_address_or_no_token_is_one_sentence() -> None:
    with pytest.raises(SecretResolutionError, match=r"no Vault address: set secrets.vault.address or VAULT_ADDR"):
        SecretResolver(SecretsConfig(), timeouts=FAST, environ={}).resolve("vault:secret/a#b")
    with pytest.raises(SecretResolutionError, match=r"no Vault token \(set VAULT_TOKEN"):
        _resolver("http://127.0.0.1:1", environ={"HOME": "/nonexistent"}).resolve("vault:secret/a#b")


def test_a_sealed_vault_is_retried_a_bounded_number_of_times(vault: VaultDouble) -> None:
    vault.state.fail_next = [503, 503]
    assert _resolver(vault.url).resolve("vault:secret/trading-bot/staging#api_token") == API_TOKEN
    vault.state.fail_next = [503] * 10
    with pytest.raises(SecretResolutionError, match=r"unreachable: auth/token/lookup-self at .*: Vault answered HTTP 503 "
                                                    r"\(3 attempts\)"):
        _resolver(vault.url).resolve("vault:secret/trading-bot/staging#api_token")
    assert len(vault.state.fail_next) == 7


@pytest.mark.timeout(30)
def test_a_blackholed_vault_costs_its_bounded_attempts_once_per_run() -> None:
    with Blackhole() as hole:
        r = _resolver(hole.url)
        with pytest.raises(SecretResolutionError, match=r"unreachable: auth/token/lookup-self at http://127.0.0.1:\d+: "
                                                        r"read timeout \(connected, no answer\) \(3 attempts\)"):
            r.resolve("vault:secret/trading-bot/staging#api_token")
        assert len(hole.accepted) == 3
        with pytest.raises(SecretResolutionError, match="unreachable"):
            r.resolve("vault:secret/trading-bot/staging#database_url")
        assert len(hole.accepted) == 3


def test_a_refused_connection_is_unreachable() -> None:
    r = _resolver(f"http://127.0.0.1:{closed_port()}", timeouts=Timeouts(connect_s=0.5, read_s=0.5, retries=1,
                                                                            backoff_s=0.01))
    with pytest.raises(SecretResolutionError, match=r"unreachable: .*connection refused \(2 attempts\)"):
        r.resolve("vault:secret/trading-bot/staging#api_token")


def test_store_timeouts_override_the_environment() -> None:
    from goldgate.secrets.settings import Limits

    limits = Limits.of(VaultSettings(read_s=1.5, retries=0), Timeouts(connect_s=2, read_s=9, retries=3, backoff_s=0.1))
    assert (limits.connect_s, limits.read_s, limits.retries, limits.backoff_s) == (2, 1.5, 0, 0.1)


def test_injected_reader_still_works() -> None:
    from goldgate.config import resolve_secret

    assert resolve_secret("vault:a/b#c", vault_reader=lambda path, key: f"{path}:{key}-value") == "a/b:c-value"
