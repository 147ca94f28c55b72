"""The scrape source against real reference bots: faults end in the right verdict."""

from __future__ import annotations

import threading

import pytest

from goldgate.criteria.latency import p95_above_budget, p95_vs_baseline
from goldgate.criteria.measured import disk_readings, error_rate_from, feed_sequential
from goldgate.criteria.resources import free_disk
from goldgate.criteria.sprt import GUIDE_DEFAULTS, SequentialErrorRate
from goldgate.probes.metrics.base import Selector
from goldgate.probes.metrics.scrape import ScrapeSource, StaticTargets, Target
from goldgate.verdict import Status
from tests.metrics.conftest import VERSIONS, Bot, Fleet, free_port, send_traffic

pytestmark = pytest.mark.sandbox


def source(fleet: Fleet, **kw) -> ScrapeSource:  # type: ignore[no-untyped-def]
    targets = [Target(b.url + "/metrics", {"app": "trading-bot", "version": VERSIONS[b.name]}, b.name)
               for b in fleet.all()]
    return ScrapeSource(StaticTargets(targets), **kw)


def version(name: str) -> Selector:
    return Selector({"app": "trading-bot", "version": VERSIONS[name]})


def test_injected_errors_fail_the_error_rate_and_healthy_passes(fleet: Fleet) -> None:
    src = source(fleet)
    bad, good = src.start(version("errors")), src.start(version("healthy"))
    send_traffic(fleet.errors.url, 1500)
    send_traffic(fleet.healthy.url, 400)
    bad.scrape()
    good.scrape()
    m_bad, m_good = bad.observation().request_counts(), good.observation().request_counts()
    assert m_bad.counts.total == 1500 and m_good.counts.total == 400  # exact: deltas of real counters
    v = error_rate_from(m_bad, GUIDE_DEFAULTS)
    assert v.status is Status.FAIL and v.rollback, v.message()
    assert f"{m_bad.counts.errors:g} errors in 1500 requests" in v.reason and "1 %" in v.reason
    ok = error_rate_from(m_good, GUIDE_DEFAULTS)
    assert ok.status is Status.PASS, ok.message()


def test_latency_knob_fails_p95_against_the_stable_baseline(fleet: Fleet) -> None:
    src = source(fleet)
    slow, stable = src.start(version("slow")), src.start(version("healthy"))
    send_traffic(fleet.slow.url, 120, threads=24)
    send_traffic(fleet.healthy.url, 200)
    slow.scrape()
    stable.scrape()
    m_slow = slow.observation().latency_quantile(0.95)
    m_base = stable.observation().latency_quantile(0.95)
    assert m_slow.value >= 0.3 and m_base.value < 0.1
    v = p95_vs_baseline(m_slow.value, m_base.value, factor=2, min_samples=50, samples=m_slow.samples,
                        baseline_samples=m_base.samples, window_s=m_slow.window_s,
                        evidence=(m_slow.evidence(), m_base.evidence()))
    assert v.status is Status.FAIL and v.rollback, v.message()
    budget = p95_above_budget(m_slow.value, budget_s=0.25, min_samples=50, samples=m_slow.samples,
                              window_s=m_slow.window_s)
    assert budget.status is Status.FAIL and not budget.rollback


def test_blocking_window_form_measures_concurrent_traffic(fleet: Fleet) -> None:
    src = source(fleet, scrapes_per_window=3)
    load = threading.Thread(target=send_traffic, args=(fleet.healthy.url, 300), kwargs={"threads": 4})
    load.start()
    m = src.request_counts(1.5, version("healthy"))
    load.join()
    assert m.ok and 0 < m.counts.total <= 300 and m.window_s == 1.5
    assert "127.0.0.1" in m.query and m.series


def test_counter_reset_on_restart_is_counted_from_zero(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bot = Bot("restarting", {"BOT_VERSION": "9"}, tmp_path).start()
    try:
        src = ScrapeSource(StaticTargets([bot.url]))
        window = src.start(Selector())
        send_traffic(bot.url, 100, threads=4)
        window.scrape()
        bot.stop()
        bot.start()
        send_traffic(bot.url, 30, threads=2)
        window.scrape()
        m = window.observation().request_counts()
        assert m.counts.total == 130, m.series
    finally:
        bot.stop()


def test_instant_gauges(fleet: Fleet) -> None:
    src = source(fleet)
    ready = src.instant("bot_ready", Selector({"app": "trading-bot"}))
    assert ready.value == 3 and ready.samples == 3
    disk = src.instant('node_filesystem_avail_bytes{mountpoint="/data"}', version("healthy"))
    assert disk.value and disk.value > 0
    missing = src.instant("no_such_metric", version("healthy"))
    assert missing.value is None and not missing.error and "no series" in missing.reason


def test_unreachable_pod_is_an_error_naming_the_url_and_no_pods_is_inconclusive() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    src = ScrapeSource(StaticTargets([url]), retries=0, sleep=lambda _s: None)
    m = src.request_counts(0.01, Selector())
    assert m.failed and url in m.error
    v = error_rate_from(m, GUIDE_DEFAULTS)
    assert v.status is Status.ERROR and url in v.message()
    none = error_rate_from(src.request_counts(0.01, Selector({"version": "x"})), GUIDE_DEFAULTS)
    assert none.status is Status.INCONCLUSIVE and "no pods" in none.message()


def test_canary_monitor_streams_polls_into_the_sequential_test(fleet: Fleet) -> None:
    """Poll by poll, as the canary monitor will: INCONCLUSIVE while thin, then FAIL for good."""
    src = source(fleet)
    test = SequentialErrorRate(GUIDE_DEFAULTS, criterion="canary error rate")
    idle = src.start(version("errors"))
    idle.scrape()  # a poll without traffic: nothing to decide on
    first = feed_sequential(test, idle.observation().request_counts())
    assert first.status is Status.INCONCLUSIVE and "no requests" in first.reason
    statuses = []
    for _ in range(8):
        window = src.start(version("errors"))
        send_traffic(fleet.errors.url, 150)
        window.scrape()
        statuses.append(feed_sequential(test, window.observation().request_counts()).status)
        if test.decided:
            break
    assert Status.PASS not in statuses
    assert statuses[-1] is Status.FAIL, test.verdict().message()
    assert test.verdict().evidence[0].source == "scrape"


def test_disk_pressure_fault_fails_free_disk_and_healthy_passes(tmp_path, fleet: Fleet) -> None:  # type: ignore[no-untyped-def]
    full = Bot("disk-full", {"BOT_VERSION": "9", "FAULT_DISK_FREE_PERCENT": "5"}, tmp_path).start()
    try:
        verdicts = {}
        for url in (full.url, fleet.healthy.url):
            src = ScrapeSource(StaticTargets([url]))
            avail = src.instant('node_filesystem_avail_bytes{mountpoint="/data"}', Selector())
            size = src.instant('node_filesystem_size_bytes{mountpoint="/data"}', Selector())
            volumes = disk_readings(avail, size)
            assert len(volumes) == 1
            verdicts[url] = free_disk(volumes, min_free_fraction=0.10, evidence=(avail.evidence(),))
    finally:
        full.stop()
    bad = verdicts[full.url]
    assert bad.status is Status.FAIL and bad.rollback, bad.message()
    assert "5 % free" in bad.reason and "minimum 10 %" in bad.reason
    # the healthy bot reports this machine's real free space on its data volume
    assert verdicts[fleet.healthy.url].status is Status.PASS, verdicts[fleet.healthy.url].message()
