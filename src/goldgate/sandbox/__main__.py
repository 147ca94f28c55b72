"""``python -m goldgate.sandbox``: the sandbox daemon (started by ``goldgate sandbox up``)."""

from goldgate.sandbox.daemon import main

raise SystemExit(main())
