"""One flag server per deployment: a second region's daemon is given the primary's Unleash URL
and client token (read from the files the primary's server was planned with), so its pods
evaluate their flags on the same server and show in its client metrics."""

from __future__ import annotations

import pathlib

from goldgate.sandbox.flags import server


def test_second_region_gets_the_primarys_url_and_client_token(tmp_path: pathlib.Path) -> None:
    plan = server.UnleashPlan(folder=str(tmp_path), port=4242, pg_port=5432, pg_root=str(tmp_path / "pg"),
                              admin_token="*:*.admin", client_token="default:development.client")
    assert server.client_env(tmp_path) == {}  # no server planned: the region runs without one
    server.record(plan, ready=False)
    assert server.client_env(tmp_path) == {server.URL_ENV: "http://127.0.0.1:4242",
                                           server.CLIENT_TOKEN_ENV: "default:development.client"}
    token_file = tmp_path / server.CLIENT_TOKEN_FILE
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert "development.client" not in (tmp_path / server.STATE_FILE).read_text()  # no token in the state file
