"""The reference XAUUSD trading bot: the real service the sandbox runs as pods.

Start it with ``python -m goldgate.sandbox.bot`` (settings from ``BOT_*`` variables, see
:mod:`.settings`); faults a release can carry are the ``FAULT_*`` knobs of :mod:`.knobs`;
the order table is defined in :mod:`.db`; Prometheus series in :mod:`.metrics`.
"""

import time

# Fault clocks (warm-up, stalls, liveness failure) count from here: the earliest moment
# the bot's code runs, as close to "container started" as the process can observe.
PROCESS_STARTED = time.monotonic()
