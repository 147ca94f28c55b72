"""Evidence for the checklist's records read from the systems that hold them.

release.yaml can say that two people approved, that someone is on call and that the change
is approved; the Git forge, the paging service and the change system know whether it is
true. One small module per provider reads its API and returns plain facts
(:mod:`goldgate.probes.records.facts`); the criteria in :mod:`goldgate.criteria.records`
decide. Every call is bounded (``records.timeout_s``, ``retries``, ``budget_s``) and every
failure to answer is one :class:`RecordUnavailable` naming the provider and the call.
"""

from goldgate.probes.records.client import RecordClient, RecordUnavailable

__all__ = ["RecordClient", "RecordUnavailable"]
