"""The metric source of a rollout, where rollouts have always found it: this name is :mod:`goldgate.probes.sources`.

Choosing the environment's metric source and keeping a growing window over it is
measuring, not rolling out, and probes (server timings) need it too; so it lives in
goldgate.probes and this module is the same module object under its older name.
"""

import sys

from goldgate.probes import sources as _sources

sys.modules[__name__] = _sources
