"""The sandbox's market: one replayable XAUUSD/XAGUSD bar feed every bot version reads.

:mod:`.bars` generates bar ``k`` from (seed, symbol, k) — shared by the feed server and a
bot's in-process fallback; :mod:`.sessions` says which bars exist (a closed market has
none); :mod:`.server` serves both over HTTP (``python -m goldgate.sandbox.market``), with
the control the sandbox uses to close and open the market during a rehearsal.
"""
