"""Root conftest: makes the step vocabularies visible to every feature (pytest-bdd 9
step definitions are fixtures, so they must be plugins, not mere imports).

The sandbox plugin comes first and only from here (not from the ``pytest11`` entry point):
goldgate's own runs resolve ``local.yaml``'s ``sandbox`` values into a concrete cluster and
release, while a team's venv never loads it.
"""

pytest_plugins = [
    "goldgate.sandbox.pytest_plugin",
    "steps.http",
    "steps.checklist",
    "steps.migrations",
    "steps.configuration",
    "steps.flags",
    "steps.recovery",
    "steps.database",
    "steps.load",
    "steps.rollout",
    "steps.spec",
    "steps.readiness",
    "steps.post_deploy",
    "steps.failover",
    "steps.trading",
    "steps.supply",
]
