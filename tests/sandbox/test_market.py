"""The sandbox's market feed: injected into every bot pod, read by the stable reference bot
too, closed and opened with ``goldgate sandbox market`` while the pods keep running."""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil
import pytest
import requests

from goldgate.sandbox import cli
from goldgate.sandbox.market import process as market
from goldgate.sandbox.stable_bot import stable_bot
from tests.sandbox.conftest import Sandbox

pytestmark = [pytest.mark.sandbox]

TIMEOUT = (1.0, 5.0)


def _bot_urls(sb: Sandbox) -> list[str]:
    """The pods' bots, found by their data folder under the sandbox's state folder."""
    urls = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "goldgate.sandbox.bot" not in " ".join(proc.info["cmdline"] or []):
                continue
            env = proc.environ()
        except psutil.Error:
            continue
        if str(sb.info.state_dir) in env.get("BOT_DATA_DIR", ""):
            urls.append(f"http://127.0.0.1:{env['BOT_PORT']}")
    return urls


def _decisions(url: str) -> dict[str, str]:
    body = requests.get(url + "/api/v1/decisions", params={"limit": "5000"}, timeout=TIMEOUT).json()
    return {d["bar_time"]: d["signal"] for d in body["decisions"]}


def _bars_decided(url: str) -> int:
    return len(requests.get(url + "/api/v1/decisions", params={"limit": "5000"}, timeout=TIMEOUT).json()["decisions"])


def _market_cli(state_dir: object, action: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``goldgate sandbox --state-dir DIR market ACTION``, run in-process (the CLI's code path)."""
    code = cli.main(["sandbox", "--state-dir", str(state_dir), "market", action])
    out, err = capsys.readouterr()
    return code, out, err


def _wait(predicate: Callable[[], bool], budget_s: float = 20.0) -> None:
    deadline = time.monotonic() + budget_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.1)


def test_every_bot_reads_the_one_market_and_decides_alike(sandbox: Sandbox) -> None:
    url = market.feed_url(sandbox.info.state_dir)
    assert url and url.startswith("http://127.0.0.1:")
    pod = sandbox.kubectl("get", "pods", "-l", "app=trading-bot", "-o", "jsonpath={.items[0].metadata.name}").stdout
    assert sandbox.kubectl("exec", pod, "--", "printenv", "MARKET_FEED_URL").stdout.strip() == url
    bots = _bot_urls(sandbox)
    # the release's three pods and production's three (its own namespace, deploy/k8s/production.yaml)
    pods = sandbox.kubectl("get", "pods", "-A", "-l", "app=trading-bot", "-o", "name").stdout.split()
    assert len(bots) == len(pods) >= 3
    with stable_bot("v1.1.0", market_url=url) as stable:
        _wait(lambda: _bars_decided(stable) >= 6)
        records = [_decisions(u) for u in [*bots, stable]]
    shared = set.intersection(*(set(r) for r in records))
    assert len(shared) >= 5
    assert all(len({r[t] for r in records}) == 1 for t in shared)  # agreement 100 %


def test_goldgate_sandbox_market_closes_and_opens_the_market(sandbox: Sandbox,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bots = _bot_urls(sandbox)
    state_dir = sandbox.info.state_dir
    code, out, err = _market_cli(state_dir, "close", capsys)
    try:
        assert code == 0 and "market closed" in out, err
        assert "market closed" in _market_cli(state_dir, "status", capsys)[1]
        time.sleep(1.5)  # bars complete before the close may still be decided
        before = [_bars_decided(u) for u in bots]
        time.sleep(2.0)  # four bars of 0.5 s
        assert [_bars_decided(u) for u in bots] == before
    finally:
        code, out, err = _market_cli(state_dir, "open", capsys)
    assert code == 0 and "market open" in out, err
    _wait(lambda: all(_bars_decided(u) > n for u, n in zip(bots, before, strict=True)))


def test_market_cli_without_a_sandbox_says_so(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _market_cli(tmp_path, "status", capsys)
    assert code == 1 and "no sandbox running" in err
