"""The redactor, where report writers have always found it: this name is :mod:`goldgate.redact`.

The redactor lives on the ground floor because the secret resolvers register every value
they resolve with it, and they sit below the report writers. The module object is shared,
not copied: the registry is process-wide, so ``goldgate.report.redact`` and
``goldgate.redact`` must be the same module (a second copy would mask nothing).
"""

import sys

from goldgate import redact as _redact

sys.modules[__name__] = _redact
