"""The drill's writes before it fails a region: a stated period, stretched only until the
first acknowledgement and never without bound."""

from __future__ import annotations

import json

from goldgate.probes.failover import OrderWriter
from goldgate.probes.http import HttpObservation


class _Clock:
    """Time that moves only when the client answers (each answer takes ``per_write_s``)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Client:
    """Answers 503 until ``accept_after_s`` on the clock, then 201 with an id."""

    def __init__(self, clock: _Clock, accept_after_s: float, per_write_s: float) -> None:
        self.clock, self.accept_after_s, self.per_write_s = clock, accept_after_s, per_write_s
        self.writes = 0

    def post(self, path: str, body: object) -> HttpObservation:
        self.clock.now += self.per_write_s
        self.writes += 1
        if self.clock.now < self.accept_after_s:
            return HttpObservation("POST", path, status=503)
        return HttpObservation("POST", path, status=201, body=json.dumps({"id": self.writes}))


def _writer(accept_after_s: float, per_write_s: float = 1.0) -> tuple[OrderWriter, _Client, _Clock]:
    clock = _Clock()
    client = _Client(clock, accept_after_s, per_write_s)
    return OrderWriter(client, clock=clock), client, clock  # type: ignore[arg-type]


def test_a_working_service_is_written_to_for_the_stated_seconds_only() -> None:
    writer, client, clock = _writer(accept_after_s=0.0)
    assert writer.write_for(4.0, interval_s=0.0, first_ack_within_s=30.0) == 4
    assert clock.now == 4.0 and client.writes == 4


def test_writes_go_on_past_the_period_until_the_first_acknowledgement() -> None:
    # one slow answer after another (a busy host) used up the 4 s with nothing acknowledged
    writer, _, clock = _writer(accept_after_s=9.0)
    assert writer.write_for(4.0, interval_s=0.0, first_ack_within_s=30.0) == 1
    assert clock.now == 9.0 and [o.client_order_id for o in writer.acked] == ["drill-" + writer.tag + "-9"]


def test_the_stretch_is_bounded_and_without_it_nothing_is_waited_for() -> None:
    writer, _, clock = _writer(accept_after_s=1000.0)
    assert writer.write_for(4.0, interval_s=0.0, first_ack_within_s=30.0) == 0
    assert clock.now == 34.0
    writer, _, clock = _writer(accept_after_s=1000.0)
    assert writer.write_for(4.0, interval_s=0.0) == 0
    assert clock.now == 4.0
