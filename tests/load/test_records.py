"""Reading what the locust processes wrote: partial lines and junk never break a run."""

from __future__ import annotations

import json
from pathlib import Path

from goldgate.load.records import Tail, read_results_dir


def _line(t: float, ok: bool = True) -> str:
    return json.dumps({"t": t, "name": "GET /health", "ms": 1.5, "ok": ok, "status": 200, "err": None, "lag": None})


def test_tail_reads_only_complete_lines_and_picks_up_the_rest_later(tmp_path: Path) -> None:
    f = tmp_path / "requests-1.jsonl"
    full = _line(2.0) + "\n"
    f.write_text(_line(1.0) + "\n" + full[:10])
    tail = Tail(tmp_path)
    assert [r.t for r in tail.poll()] == [1.0]
    with f.open("a") as fh:
        fh.write(full[10:])
    assert [r.t for r in tail.poll()] == [2.0]
    assert list(tail.poll()) == []


def test_corrupt_and_cut_lines_are_skipped_and_files_merge_in_time_order(tmp_path: Path) -> None:
    (tmp_path / "requests-1.jsonl").write_text(_line(3.0) + "\nnot json\n" + _line(1.0)[:-5])
    (tmp_path / "requests-2.jsonl").write_text(_line(2.0, ok=False) + "\n")
    recs = read_results_dir(tmp_path)
    assert [r.t for r in recs] == [2.0, 3.0]
    assert recs[0].ok is False
