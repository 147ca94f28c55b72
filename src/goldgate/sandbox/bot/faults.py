"""Run-time behaviour of the fault knobs: what a faulty release actually does.

:mod:`knobs` says *which* faults are on; this module makes them happen — injected 500s,
added latency, server-wide stalls, liveness failure and memory growth — on a clock that
starts with the process, so "stall every 10 s" means the same thing to the bot and to the
check that watches it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from goldgate.sandbox.bot.knobs import FaultKnobs

log = logging.getLogger("goldgate.bot")

MB = 1024 * 1024
_GROWTH_TICK_S = 0.1


class FaultInjector:
    def __init__(self, knobs: FaultKnobs, started: float | None = None) -> None:
        self.knobs = knobs
        self.started = time.monotonic() if started is None else started
        self._rng = random.Random(knobs.seed)
        self._hoard: list[bytes] = []

    def uptime(self) -> float:
        return time.monotonic() - self.started

    # ----------------------------------------------------------------- /api/ faults

    def stall_remaining(self, uptime: float | None = None) -> float:
        """Seconds until the current stall window ends (0 outside a window).

        Window k (k = 1, 2, ...) covers ``[k*N, k*N + S)`` seconds of uptime.
        """
        k = self.knobs
        if k.stall_every_s is None or k.stall_s is None:
            return 0.0
        t = self.uptime() if uptime is None else uptime
        if t < k.stall_every_s:
            return 0.0
        into = t % k.stall_every_s
        return k.stall_s - into if into < k.stall_s else 0.0

    async def wait_out_stall(self) -> None:
        """Hold the caller until no stall window is open (loops: a window may follow)."""
        while (remaining := self.stall_remaining()) > 0:
            await asyncio.sleep(remaining + 0.001)

    async def before_api_request(self) -> bool:
        """Apply stall and latency; return True when this request must answer 500."""
        await self.wait_out_stall()
        k = self.knobs
        delay_ms = k.latency_ms
        if k.latency_jitter_ms > 0:
            delay_ms += self._rng.uniform(0, k.latency_jitter_ms)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if k.error_rate > 0 and self._rng.random() < k.error_rate:
            return True
        return self.in_error_burst()

    def in_error_burst(self) -> bool:
        """FAULT_ERROR_BURSTS: an error drawn at the burst's rate while its window is open.

        The window is read from the wall clock (not uptime) so every pod with the same
        value bursts at the same moments, as a shared flaky dependency would make them.
        """
        bursts = self.knobs.error_bursts
        if bursts is None:
            return False
        rate = bursts.rate_at(time.time())
        return rate > 0 and self._rng.random() < rate

    def pad_body(self, body: bytes) -> bytes:
        """FAULT_RESPONSE_PADDING_BYTES: a JSON object body gains a ``"padding"`` string that
        long (anything else is left alone, so a client never gets a broken document)."""
        n = self.knobs.response_padding_bytes
        if n <= 0:
            return body
        try:
            doc = json.loads(body)
        except ValueError:
            return body
        if not isinstance(doc, dict):
            return body
        doc["padding"] = "x" * n
        return json.dumps(doc, separators=(",", ":")).encode()

    # ---------------------------------------------------------------- other faults

    def liveness_failing(self) -> bool:
        after = self.knobs.liveness_fail_after_s
        return after is not None and self.uptime() >= after

    @property
    def model_never_loads(self) -> bool:
        return self.knobs.never_ready

    async def grow_memory(self) -> None:
        """Keep allocating ``FAULT_MEMORY_GROWTH_MB_PER_S`` until the cap; runs as a task.

        ``b"\\x01" * n`` writes every byte, so the pages are resident (calloc'd zero pages
        would not raise RSS and the OOM behaviour would be fake).
        """
        k = self.knobs
        cap = int(k.memory_growth_cap_mb * MB)
        held = 0
        begun = time.monotonic()
        while held < cap:
            await asyncio.sleep(_GROWTH_TICK_S)
            due = min(cap, int((time.monotonic() - begun) * k.memory_growth_mb_per_s * MB))
            if due > held:
                self._hoard.append(b"\x01" * (due - held))
                held = due
        log.warning("memory growth stopped at the %.0f MB safety cap", k.memory_growth_cap_mb)

    @property
    def hoarded_bytes(self) -> int:
        return sum(map(len, self._hoard))
