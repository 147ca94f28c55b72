"""Each fault knob, shown to have its effect on a real bot process (and a healthy case)."""

from __future__ import annotations

import itertools
import threading
import time
from typing import TYPE_CHECKING

import psutil
import pytest
import requests

from goldgate.sandbox.bot.knobs import FaultKnobs, KnobError, describe

if TYPE_CHECKING:
    from tests.bot.conftest import BotFactory

CONTRACT_KNOBS = {
    "FAULT_ERROR_RATE", "FAULT_LATENCY_MS", "FAULT_LATENCY_JITTER_MS", "FAULT_SLOWDOWN_FACTOR",
    "FAULT_STALL_EVERY_S", "FAULT_STALL_S", "FAULT_NEVER_READY", "FAULT_CRASH_AT_START",
    "FAULT_MEMORY_GROWTH_MB_PER_S", "FAULT_DISK_FREE_PERCENT", "FAULT_LIVENESS_FAIL_AFTER_S",
    "FAULT_SEED", "FAULT_ERROR_BURSTS", "FAULT_RESPONSE_PADDING_BYTES",
}
SIGNAL = "/api/v1/signal?symbol=XAUUSD"


# ----------------------------------------------------------------- documentation


def test_describe_documents_every_knob_with_meaning_and_example() -> None:
    rows = describe()
    assert {r["name"] for r in rows} >= CONTRACT_KNOBS
    for row in rows:
        assert len(row["meaning"]) > 20, row
        assert row["example"], row
        # the example itself must be a valid value of its knob
        FaultKnobs.from_env({row["name"]: row["example"],
                             "FAULT_STALL_EVERY_S": "10", "FAULT_STALL_S": "2"})


def test_defaults_are_a_healthy_bot() -> None:
    knobs = FaultKnobs.from_env({})
    assert knobs.active() == {}
    assert not knobs.stalls


@pytest.mark.parametrize(("env", "variable"), [
    ({"FAULT_ERROR_RATE": "1.5"}, "FAULT_ERROR_RATE"),
    ({"FAULT_ERROR_RATE": "-0.1"}, "FAULT_ERROR_RATE"),
    ({"FAULT_LATENCY_MS": "fast"}, "FAULT_LATENCY_MS"),
    ({"FAULT_LATENCY_JITTER_MS": "nan"}, "FAULT_LATENCY_JITTER_MS"),
    ({"FAULT_SLOWDOWN_FACTOR": "0"}, "FAULT_SLOWDOWN_FACTOR"),
    ({"FAULT_NEVER_READY": "maybe"}, "FAULT_NEVER_READY"),
    ({"FAULT_DISK_FREE_PERCENT": "101"}, "FAULT_DISK_FREE_PERCENT"),
    ({"FAULT_SEED": "1.5"}, "FAULT_SEED"),
    ({"FAULT_RESPONSE_PADDING_BYTES": "-1"}, "FAULT_RESPONSE_PADDING_BYTES"),
    ({"FAULT_RESPONSE_PADDING_BYTES": "2k"}, "FAULT_RESPONSE_PADDING_BYTES"),
    ({"FAULT_STALL_S": "1"}, "FAULT_STALL_S"),
    ({"FAULT_STALL_EVERY_S": "1", "FAULT_STALL_S": "2"}, "FAULT_STALL_S"),
])
def test_invalid_knob_names_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(KnobError) as caught:
        FaultKnobs.from_env(env)
    assert caught.value.variable == variable
    assert variable in str(caught.value)


# ------------------------------------------------------------- exit status 2


@pytest.mark.sandbox
@pytest.mark.parametrize(("env", "needle"), [
    ({"FAULT_ERROR_RATE": "1.5"}, "FAULT_ERROR_RATE='1.5'"),
    ({"FAULT_LATENCY_MS": "fast"}, "FAULT_LATENCY_MS='fast'"),
    ({"BOT_PORT": "0"}, "BOT_PORT='0'"),
    ({"BOT_PORT": "eighty"}, "BOT_PORT='eighty'"),
    ({"BOT_WARMUP_S": "-1"}, "BOT_WARMUP_S='-1'"),
    ({"DATABASE_URL": "nosuchdb://u:hunter2@h/x"}, "DATABASE_URL="),
])
def test_bad_value_exits_2_with_one_line(start_bot: BotFactory, env: dict[str, str],
                                         needle: str) -> None:
    bot = start_bot(env, listen=False)
    assert bot.proc.wait(10) == 2
    lines = bot.stderr().strip().splitlines()
    assert any(needle in line for line in lines), lines
    assert "Traceback" not in bot.stderr()
    assert "hunter2" not in bot.stderr()  # a database password never reaches the log


@pytest.mark.sandbox
def test_missing_port_exits_2(start_bot: BotFactory) -> None:
    bot = start_bot({}, listen=False, with_port=False)
    assert bot.proc.wait(10) == 2
    assert "BOT_PORT" in bot.stderr()


# ------------------------------------------------------------------- effects


@pytest.mark.sandbox
def test_error_rate_matches_configuration_and_spares_health(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_ERROR_RATE": "0.25", "FAULT_SEED": "7", "BOT_SIGNAL_BASE_MS": "0"})
    with requests.Session() as s:
        codes = [s.get(bot.url + SIGNAL, timeout=(1, 5)).status_code for _ in range(400)]
        health = {s.get(bot.url + "/health", timeout=(1, 5)).status_code for _ in range(50)}
    rate = codes.count(500) / len(codes)
    assert set(codes) <= {200, 500}
    assert abs(rate - 0.25) < 0.065, rate  # 3 standard deviations of a binomial at n=400
    assert health == {200}
    counted = {lb["code"]: v for lb, v in bot.metrics()["http_requests_total"]
               if lb["route"] == "/api/v1/signal"}
    assert counted["500"] == codes.count(500)


@pytest.mark.sandbox
def test_error_injection_is_reproducible_with_a_seed(start_bot: BotFactory) -> None:
    patterns = []
    for _ in range(2):
        bot = start_bot({"FAULT_ERROR_RATE": "0.5", "FAULT_SEED": "11",
                         "BOT_SIGNAL_BASE_MS": "0"})
        with requests.Session() as s:
            patterns.append([s.get(bot.url + SIGNAL, timeout=(1, 5)).status_code
                             for _ in range(60)])
        bot.stop()
    assert patterns[0] == patterns[1]
    assert 500 in patterns[0] and 200 in patterns[0]


def _timed(url: str) -> tuple[int, float]:
    began = time.perf_counter()
    code = requests.get(url, timeout=(1, 10)).status_code
    return code, time.perf_counter() - began


@pytest.mark.sandbox
def test_latency_and_jitter_are_added_to_api_routes_only(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_LATENCY_MS": "200", "FAULT_LATENCY_JITTER_MS": "100",
                     "BOT_SIGNAL_BASE_MS": "0"})
    api = [_timed(bot.url + SIGNAL) for _ in range(6)]
    health = [_timed(bot.url + "/health") for _ in range(6)]
    assert all(code == 200 for code, _ in api)
    assert min(t for _, t in api) >= 0.2
    assert max(t for _, t in api) < 0.3 + 0.25  # jitter bound plus generous slack
    assert max(t for _, t in health) < 0.15


@pytest.mark.sandbox
def test_slowdown_factor_multiplies_inference_time(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_SLOWDOWN_FACTOR": "3", "BOT_SIGNAL_BASE_MS": "60"})
    for _ in range(3):
        code, seconds = _timed(bot.url + SIGNAL)
        assert code == 200
        assert seconds >= 0.18
    samples = dict((n, v) for n, [(_, v)] in (
        (n, bot.metrics()[n]) for n in ("model_inference_seconds_sum",
                                        "model_inference_seconds_count")))
    mean = samples["model_inference_seconds_sum"] / samples["model_inference_seconds_count"]
    assert 0.18 <= mean < 0.4


@pytest.mark.sandbox
def test_stall_pauses_api_traffic_but_not_health(start_bot: BotFactory) -> None:
    """A closed-loop client sees a server-wide gap of about FAULT_STALL_S on /api/."""
    bot = start_bot({"FAULT_STALL_EVERY_S": "1.2", "FAULT_STALL_S": "0.8",
                     "BOT_SIGNAL_BASE_MS": "5"})
    health_times: list[float] = []
    stop = threading.Event()

    def watch_health() -> None:
        with requests.Session() as s:
            while not stop.is_set():
                began = time.perf_counter()
                s.get(bot.url + "/health", timeout=(1, 5))
                health_times.append(time.perf_counter() - began)
                time.sleep(0.05)

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    completions: list[float] = []
    try:
        with requests.Session() as s:
            deadline = time.monotonic() + 2.6
            while time.monotonic() < deadline:
                assert s.get(bot.url + SIGNAL, timeout=(1, 5)).status_code == 200
                completions.append(time.monotonic())
    finally:
        stop.set()
        watcher.join(5)
    gaps = [b - a for a, b in itertools.pairwise(completions)]
    assert max(gaps) >= 0.6, max(gaps)  # the stall window
    assert len(completions) > 20  # outside stalls the loop runs freely
    assert max(health_times) < 0.2  # liveness never waits for a stall


@pytest.mark.sandbox
def test_stall_holds_requests_already_in_flight(start_bot: BotFactory) -> None:
    # The request arrives before the first stall (t=1.0 s) and would finish at ~0.9+0.3 s;
    # the stall holds its response until the window closes at 1.0+0.7 s.
    bot = start_bot({"FAULT_STALL_EVERY_S": "1.0", "FAULT_STALL_S": "0.7",
                     "BOT_SIGNAL_BASE_MS": "300"}, listen=False)
    bot.wait_listening()
    time.sleep(max(0.0, bot.started + 0.75 - time.monotonic()))
    code, seconds = _timed(bot.url + SIGNAL)
    assert code == 200
    assert seconds >= 0.6, seconds


@pytest.mark.sandbox
def test_response_padding_grows_api_answers_only(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_RESPONSE_PADDING_BYTES": "5000", "BOT_SIGNAL_BASE_MS": "0"})
    plain = start_bot({"BOT_SIGNAL_BASE_MS": "0"})
    padded_resp, plain_resp = bot.get(SIGNAL), plain.get(SIGNAL)
    assert padded_resp.status_code == plain_resp.status_code == 200
    padded_doc = padded_resp.json()  # still one valid document, Content-Length matching
    assert padded_doc.pop("padding") == "x" * 5000
    assert set(padded_doc) == set(plain_resp.json())
    assert int(padded_resp.headers["content-length"]) == len(padded_resp.content)
    assert len(padded_resp.content) - len(plain_resp.content) >= 5000
    assert "padding" not in bot.get("/health").json()  # probes and scrapes stay cheap
    assert len(bot.get("/metrics").content) < 100_000


@pytest.mark.sandbox
def test_never_ready_keeps_ready_503(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_NEVER_READY": "true"})
    time.sleep(0.2)
    resp = bot.get("/ready")
    assert resp.status_code == 503
    assert resp.json() == {"status": "not ready", "checks": {"model": False, "database": True}}
    assert bot.get("/health").status_code == 200
    assert bot.metrics()["bot_ready"][0][1] == 0


@pytest.mark.sandbox
def test_crash_at_start_exits_1_without_listening(start_bot: BotFactory) -> None:
    began = time.monotonic()
    bot = start_bot({"FAULT_CRASH_AT_START": "true"}, listen=False)
    assert bot.proc.wait(10) == 1
    assert time.monotonic() - began >= 0.2
    assert "FAULT_CRASH_AT_START" in bot.stderr()
    with pytest.raises(requests.ConnectionError):
        bot.get("/health")


@pytest.mark.sandbox
def test_memory_growth_raises_rss(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_MEMORY_GROWTH_MB_PER_S": "100", "FAULT_MEMORY_GROWTH_CAP_MB": "150"})
    proc = psutil.Process(bot.proc.pid)
    before = proc.memory_info().rss
    time.sleep(1.8)
    grown_mb = (proc.memory_info().rss - before) / 2**20
    assert grown_mb >= 120, grown_mb
    reported = bot.metrics()["process_resident_memory_bytes"][0][1]
    assert reported >= before + 120 * 2**20


@pytest.mark.sandbox
def test_no_memory_growth_by_default(start_bot: BotFactory) -> None:
    bot = start_bot({})
    proc = psutil.Process(bot.proc.pid)
    before = proc.memory_info().rss
    time.sleep(0.5)
    assert (proc.memory_info().rss - before) / 2**20 < 20


@pytest.mark.sandbox
def test_disk_free_override_shows_in_metrics(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_DISK_FREE_PERCENT": "5"})
    samples = bot.metrics()
    avail = samples["node_filesystem_avail_bytes"][0][1]
    size = samples["node_filesystem_size_bytes"][0][1]
    assert samples["node_filesystem_avail_bytes"][0][0] == {"mountpoint": "/data"}
    assert avail / size == pytest.approx(0.05)


@pytest.mark.sandbox
def test_liveness_fails_after_configured_time(start_bot: BotFactory) -> None:
    bot = start_bot({"FAULT_LIVENESS_FAIL_AFTER_S": "4.0"})
    assert bot.get("/health").status_code == 200
    time.sleep(max(0.0, bot.started + 4.3 - time.monotonic()))
    resp = bot.get("/health")
    assert resp.status_code == 500
    assert resp.json()["status"] == "failing"
