"""A judge restarted mid-run continues the run's trading evidence (no cluster, no sandbox).

The run's monitor carries a real :class:`TradingMonitor` over an in-memory decision record
(a release that disagrees with the stable version on a share of bars), read through the
record's ``since`` cursor as the real pods answer it. The agreement test crosses only on the
bars before and after the restart together: the restarted judge reaches ROLLBACK on the
signal agreement, while a judge that starts the same run from nothing, fed the same bars
after the restart, is still holding.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from goldgate.config import Environment
from goldgate.criteria.trading.agreement import AGREEMENT
from goldgate.judge import engine as engine_module
from goldgate.judge.engine import Judge
from goldgate.judge.runs import RunKey
from goldgate.judge.store import RunStore
from goldgate.judge.targets import RunTarget
from goldgate.probes.trading import PodEndpoint, TradingRecordSource
from goldgate.rollout.monitor import Assessment, Group
from goldgate.rollout.trading_monitor import TradingMonitor
from tests.judge.fakes import ScriptedMonitor, triggers

RELEASE = Group("bot@new", {"app": "bot", "track": "canary"}, "trading")
STABLE = Group("bot@old", {"app": "bot", "track": "stable"}, "trading")
KEY = RunKey("trading", "bot", "new")
SYMBOLS = ("XAUUSD", "XAGUSD")


class Record(TradingRecordSource):
    """Both versions' decision records in memory, answered like the bot's ``GET /api/v1/decisions``."""

    def __init__(self, env: Environment, *, differ: float, seed: int = 11) -> None:
        super().__init__(env.trading, env.timeouts, self._endpoints)
        self.rng = random.Random(seed)
        self.differ = differ
        self.rows: dict[str, list[dict[str, Any]]] = {"c0": [], "s0": []}
        self.t = time.time()

    @staticmethod
    def _endpoints(selector: Any) -> list[PodEndpoint]:
        pod = "c0" if selector.labels.get("track") == "canary" else "s0"
        return [PodEndpoint(pod, f"http://{pod}.invalid")]

    def bars(self, n: int) -> None:
        """``n`` more bars of both versions, each a little later (never before the windows opened)."""
        for _ in range(n):
            self.t = max(self.t + 0.01, time.time())
            for sym in SYMBOLS:
                stable = self.rng.choice(("BUY", "SELL", "HOLD"))
                canary = stable if self.rng.random() >= self.differ else \
                    self.rng.choice([s for s in ("BUY", "SELL", "HOLD") if s != stable])
                for pod, signal in (("c0", canary), ("s0", stable)):
                    self.rows[pod].append({"bar_time": round(self.t, 3), "symbol": sym, "signal": signal,
                                           "mid": 2350.0, "orders": []})

    def settle(self) -> None:
        """Wait until the wall clock passed the last bar: a window opened now reads none of them."""
        time.sleep(max(0.0, self.t - time.time()) + 0.02)

    def get_json(self, base_url: str, path: str, params: Any = None) -> tuple[Any, Any]:
        pod = base_url.split("//")[1].split(".")[0]
        since = float((params or {}).get(self.settings.since_param) or 0)
        rows = [r for r in self.rows[pod] if r["bar_time"] >= since][: int(params[self.settings.limit_param])]
        body = {"decisions": rows, "pnl_usd": 0.0,
                "position": {}, "open_orders": 0}
        return body, SimpleNamespace(url=f"{base_url}{path}")


class BotMonitor(ScriptedMonitor):
    """A healthy §6.1 side (scripted) with the real trading triggers over :class:`Record`."""

    def __init__(self, env: Environment, record: Record, group: Group) -> None:
        super().__init__(env, lambda g: "PASS", group)
        self.trading = TradingMonitor(env, record, RELEASE, STABLE)

    def start(self) -> None:
        super().start()
        self.trading.start()

    def evaluate(self) -> Assessment:
        return Assessment(str(self.group), round(self.elapsed_s, 3), (*triggers("PASS"), *self.trading.evaluate()))


@pytest.fixture
def bot_env(env: Environment) -> Environment:
    trading = env.trading.model_copy(update={"time_format": "epoch"})
    return env.model_copy(update={"trading": trading})


def _judge(env: Environment, state: Path, record: Record, monkeypatch: pytest.MonkeyPatch) -> Judge:
    monkeypatch.setattr(engine_module, "resolve_target", lambda kube, key, **kw: RunTarget(RELEASE, STABLE))
    return Judge(env, kube=None, source=None, store=RunStore(state), interval_s=1.0,  # type: ignore[arg-type]
                 monitor_factory=lambda env, kube, source, group, **kw: BotMonitor(env, record, group))


def _agreement(body: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in body["checks"] if c["name"] == AGREEMENT)


def _polls(judge: Judge, run: Any, record: Record, polls: int, bars: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(polls):
        record.bars(bars)
        body = judge.evaluate(run)
    return body


def test_a_rollback_reached_only_by_bars_before_and_after_a_judge_restart(
        bot_env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = Record(bot_env, differ=0.2)
    first = _judge(bot_env, tmp_path / "runs.sqlite3", record, monkeypatch)
    run = first.open_run(KEY, exact_revision=True)
    before = _polls(first, run, record, 2, 8)
    assert _agreement(before)["verdict"] == "INCONCLUSIVE"
    first.pool.shutdown()
    first.open_pool.shutdown()
    record.settle()
    again = _judge(bot_env, tmp_path / "runs.sqlite3", record, monkeypatch)  # the restarted judge
    nothing = _judge(bot_env, tmp_path / "fresh.sqlite3", record, monkeypatch)  # no stored evidence
    run2 = again.open_run(KEY, exact_revision=True)
    run0 = nothing.open_run(KEY, exact_revision=True)
    note = [n for n in [*run2.monitor.notes, run2.trading_note] if "trading evidence" in n]
    assert note and re.fullmatch(r"trading evidence continued from (\d+) bars before the restart", note[0]), note
    assert int(note[0].split()[4]) == 2 * 8 * len(SYMBOLS)
    verdicts, fresh = [], []
    for _ in range(4):
        record.bars(8)
        verdicts.append(again.evaluate(run2))
        fresh.append(nothing.evaluate(run0))
    assert "ROLLBACK" in [b["verdict"] for b in verdicts]
    failed = next(b for b in verdicts if b["verdict"] == "ROLLBACK")
    assert _agreement(failed)["verdict"] in ("ROLLBACK", "FAIL") and _agreement(failed)["threshold"] is not None
    assert any("continued from" in n for n in failed["evidence"]["notes"])
    # the same bars after the restart alone are not yet enough: starting again would hold
    assert _agreement(fresh[verdicts.index(failed)])["verdict"] == "INCONCLUSIVE"
    for j in (again, nothing):
        j.pool.shutdown()
        j.open_pool.shutdown()


def test_kept_evidence_that_cannot_continue_starts_again_and_says_why(
        bot_env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = Record(bot_env, differ=0.0)
    first = _judge(bot_env, tmp_path / "runs.sqlite3", record, monkeypatch)
    run = first.open_run(KEY, exact_revision=True)
    _polls(first, run, record, 2, 8)
    kept = first.store.load(str(KEY))
    assert kept is not None and kept["trading"]["kind"] == "TradingMonitor"
    kept["trading"]["triggers"]["version"] = 0  # a snapshot of another judge version
    first.store.save(str(KEY), kept)
    record.settle()
    again = _judge(bot_env, tmp_path / "runs.sqlite3", record, monkeypatch)
    run2 = again.open_run(KEY, exact_revision=True)
    assert run2.trading_note.startswith("trading evidence starts again from the restart: ")
    assert "version 0" in run2.trading_note
    body = _polls(again, run2, record, 1, 8)
    assert _agreement(body)["verdict"] == "INCONCLUSIVE"  # never a pass from nothing
    assert any("starts again" in n for n in body["evidence"]["notes"])
    for j in (first, again):
        j.pool.shutdown()
        j.open_pool.shutdown()

