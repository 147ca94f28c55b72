"""Market sessions of the feed: which bars exist.

A closed market produces no bars. Sessions are kept as closed ranges of bar indices, not
as a flag read at request time, so the answer for bar ``k`` never depends on *when* a bot
asks: a bar that completed before the close exists for every reader, a bar that would
have ended after it does not, and the first bar after an open is the first one that starts
at or after that moment. Two versions polling a few milliseconds apart around a close
therefore still decide on the same bars.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Sessions:
    bar_s: float
    #: Closed ranges ``[first, last)`` of bar indices; ``last`` None while still closed.
    closed: list[list[int | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_open(self) -> bool:
        with self._lock:
            return not self.closed or self.closed[-1][1] is not None

    def close(self, now: float | None = None) -> bool:
        """Close the market now: the bar in progress and every later one will not exist.
        Returns False when it was closed already."""
        moment = time.time() if now is None else now
        with self._lock:
            if self.closed and self.closed[-1][1] is None:
                return False
            self.closed.append([math.floor(moment / self.bar_s + 1e-9), None])
            return True

    def open(self, now: float | None = None) -> bool:
        """Open the market now: bars starting at or after this moment exist again.
        Returns False when it was open already."""
        moment = time.time() if now is None else now
        with self._lock:
            if not self.closed or self.closed[-1][1] is not None:
                return False
            first = self.closed[-1][0]
            assert first is not None
            self.closed[-1][1] = max(first, math.ceil(moment / self.bar_s - 1e-9))
            return True

    def has_bar(self, k: int) -> bool:
        with self._lock:
            return not any(lo is not None and k >= lo and (hi is None or k < hi)
                           for lo, hi in self.closed)

    def newest_bar(self, last_complete: int, after: int | None) -> int | None:
        """The newest existing bar ``<= last_complete`` and ``> after``; None when none."""
        k = last_complete
        floor = -math.inf if after is None else after
        with self._lock:
            for lo, hi in reversed(self.closed):
                assert lo is not None
                if hi is not None and k >= hi:
                    break
                if k >= lo:
                    k = lo - 1
        return k if k > floor else None

    def as_list(self) -> list[dict[str, float | None]]:
        """The closed ranges as epoch seconds, for the status answer."""
        with self._lock:
            return [{"closed_from": lo * self.bar_s if lo is not None else None,
                     "closed_until": hi * self.bar_s if hi is not None else None}
                    for lo, hi in self.closed]
