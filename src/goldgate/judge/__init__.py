"""The HTTP judge: goldgate's rollback triggers for the rollout controllers teams already run.

A second front end beside the pytest plugin, over the same probes and criteria and never
importing pytest: ``goldgate serve`` answers Flagger's webhooks (:mod:`.flagger`), Argo
Rollouts' ``web`` metric provider (:mod:`.argo`) and Kayenta's remote judge
(:mod:`.kayenta`); ``goldgate judge`` is the same judgement for Argo's ``job`` provider.
Every run (``namespace/workload@revision``) keeps its sequential evidence across calls and
restarts (:mod:`.engine`, :mod:`.store`); the verdicts themselves come from
:mod:`goldgate.criteria.judge`.
"""
