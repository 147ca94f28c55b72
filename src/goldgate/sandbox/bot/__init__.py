"""The reference XAUUSD trading bot: the real service the sandbox runs as pods.

Start it with ``python -m goldgate.sandbox.bot`` (settings from ``BOT_*`` variables, see
:mod:`.settings`); faults a release can carry are the ``FAULT_*`` knobs of :mod:`.knobs`;
the order table is defined in :mod:`.db`; Prometheus series in :mod:`.metrics`.
"""
