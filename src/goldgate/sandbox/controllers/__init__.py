"""The sandbox cluster's controllers: Deployments, ReplicaSets, kubelet, Services, GC.

Public contract (the API server and daemon code against exactly this):
:class:`Cluster` (start/stop, pod logs, exec context, resource usage),
:class:`ExecContext` and :func:`list_faults`. See ``cluster.py`` for how the loop
runs, ``kubelet.py`` for pods as processes, ``timing.py`` for the time scale.
"""

from goldgate.sandbox.controllers.cluster import Cluster
from goldgate.sandbox.controllers.context import ExecContext
from goldgate.sandbox.controllers.faults import FAULTS, Fault, FaultContext, list_faults

__all__ = ["FAULTS", "Cluster", "ExecContext", "Fault", "FaultContext", "list_faults"]
