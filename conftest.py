"""Root conftest: makes the step vocabularies visible to every feature (pytest-bdd 9
step definitions are fixtures, so they must be plugins, not mere imports)."""

pytest_plugins = [
    "steps.http",
    "steps.checklist",
    "steps.migrations",
    "steps.configuration",
    "steps.recovery",
    "steps.load",
    "steps.rollout",
    "steps.spec",
    "steps.readiness",
    "steps.post_deploy",
    "steps.failover",
]
