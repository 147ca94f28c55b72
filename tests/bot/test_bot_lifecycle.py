"""Start, readiness, shutdown and databases of the bot process, as a pod would live them."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.bot.conftest import BotFactory

pytestmark = pytest.mark.sandbox



def test_starts_listening_and_stays_small(start_bot: BotFactory) -> None:
    # Start-up time is measured in bench/, not asserted here (a loaded CI core is no clock).
    bot = start_bot({}, listen=False)
    bot.wait_listening()
    rss = bot.metrics()["process_resident_memory_bytes"][0][1]
    assert rss < 120 * 2**20


def test_ready_only_after_warmup(start_bot: BotFactory) -> None:
    bot = start_bot({"BOT_WARMUP_S": "6"})
    early = bot.get("/ready")
    assert early.status_code == 503
    assert early.json()["checks"] == {"model": False, "database": True}
    assert bot.metrics()["bot_ready"][0][1] == 0
    bot.wait_ready(budget_s=30)
    assert time.monotonic() - bot.started >= 6
    assert bot.metrics()["bot_ready"][0][1] == 1


def test_cli_flags_override_environment(start_bot: BotFactory,
                                        free_port: Callable[[], int]) -> None:
    port = free_port()
    bot = start_bot({"BOT_HOST": "0.0.0.0"}, args=("--host", "127.0.0.1", "--port", str(port)),
                    with_port=False)
    assert bot.port == port
    assert bot.get("/health").status_code == 200


def test_port_in_use_exits_1(start_bot: BotFactory) -> None:
    first = start_bot({})
    second = start_bot({"BOT_PORT": str(first.port)}, listen=False)
    assert second.proc.wait(10) == 1
    assert first.get("/health").status_code == 200


def test_sigterm_finishes_in_flight_request_then_exits_0(start_bot: BotFactory) -> None:
    bot = start_bot({"BOT_SIGNAL_BASE_MS": "1500"})
    outcome: dict[str, object] = {}

    def slow_call() -> None:
        try:
            resp = bot.get("/api/v1/signal", params={"symbol": "XAUUSD"})
            outcome["status"], outcome["body"] = resp.status_code, resp.json()
        except requests.RequestException as exc:
            outcome["error"] = exc

    caller = threading.Thread(target=slow_call)
    caller.start()
    time.sleep(0.4)  # the request is in flight inside the 1.5 s inference
    bot.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(requests.ConnectionError):  # no new connections while draining
        requests.get(bot.url + "/health", timeout=(0.5, 1))
    caller.join(10)
    assert outcome.get("status") == 200, outcome
    assert outcome["body"]["symbol"] == "XAUUSD"  # type: ignore[index]
    assert bot.proc.wait(10) == 0
    assert "stopped gracefully" in bot.stderr()


def test_graceful_timeout_bounds_shutdown(start_bot: BotFactory) -> None:
    bot = start_bot({"BOT_SIGNAL_BASE_MS": "10000", "BOT_GRACEFUL_TIMEOUT_S": "0.5"})
    caller = threading.Thread(target=lambda: _swallow(bot.url + "/api/v1/signal?symbol=XAUUSD"))
    caller.start()
    time.sleep(0.3)
    began = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    bot.proc.wait(10)
    caller.join(10)
    assert time.monotonic() - began < 3


def _swallow(url: str) -> None:
    with contextlib.suppress(requests.RequestException):
        requests.get(url, timeout=(1, 12))


def test_default_data_dir_is_temporary_and_removed(start_bot: BotFactory) -> None:
    bot = start_bot({"BOT_DATA_DIR": ""})
    assert bot.post("/api/v1/orders", json={"symbol": "XAUUSD", "side": "BUY",
                                            "volume": 1}).status_code == 201
    bot.stop()
    assert bot.proc.returncode == 0
    line = next(ln for ln in bot.stderr().splitlines() if "database sqlite:///" in ln)
    db_file = line.split("database sqlite:///")[1].split(",")[0]
    assert "goldgate-bot-" in db_file
    assert not os.path.exists(os.path.dirname(db_file))


def test_unreachable_database_makes_ready_503_not_health(
        start_bot: BotFactory, free_port: Callable[[], int]) -> None:
    refused = f"postgresql+psycopg://bot:secret@127.0.0.1:{free_port()}/bot"
    bot = start_bot({"DATABASE_URL": refused})
    resp = bot.get("/ready")
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"model": True, "database": False}
    assert bot.get("/health").status_code == 200
    assert "secret" not in bot.stderr()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: GOLDGATE_TEST_POSTGRES_URL, or a throwaway server on loopback."""
    from tests.postgres import postgres_for_tests

    with postgres_for_tests(driver="psycopg") as url:
        yield url


def test_postgres_database_url_works(start_bot: BotFactory, postgres_url: str) -> None:
    bot = start_bot({"DATABASE_URL": postgres_url}, ready=True)
    assert bot.get("/ready").json()["checks"]["database"] is True
    created = bot.post("/api/v1/orders", json={"symbol": "XAUUSD", "side": "SELL",
                                               "volume": 0.1})
    assert created.status_code == 201
    assert bot.get(f"/api/v1/orders/{created.json()['id']}").json() == created.json()
