"""Deployment strategies of guide §2 and the automatic rollback of §6.1, as state machines.

* :mod:`~goldgate.rollout.monitor`   — the §6.1 triggers, evaluated on one group of pods
* :mod:`~goldgate.rollout.rolling`   — rolling update watched for quorum and order, undo on failure
* :mod:`~goldgate.rollout.bluegreen` — green beside blue, smoke on green, switch, switch back
* :mod:`~goldgate.rollout.canary`    — 10 → 50 → 100 % by replica ratio, promote only on PASS
* :mod:`~goldgate.rollout.traffic`   — the bounded loopback request stream the sandbox needs

Every change to the cluster goes through :mod:`goldgate.actions`.
"""
