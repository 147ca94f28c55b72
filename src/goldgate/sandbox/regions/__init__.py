"""A second region for the sandbox (guide §9.3): primary active, secondary hot standby.

``goldgate sandbox up --regions 2`` (or ``GOLDGATE_SANDBOX_REGIONS=2``) runs, beside the
ordinary sandbox (the primary region), a second sandbox API server with its own state
folder, kubeconfig context (``goldgate-sandbox-secondary``) and bot Deployment; the bot's
database in both regions is real PostgreSQL — a primary and its streaming-replication hot
standby (:mod:`.postgres`); and a global endpoint on loopback (:mod:`.endpoint`) sends
traffic to the primary, health-checks it, fails over to the secondary (promoting the
standby) and never fails back by itself. :mod:`.pair` starts and stops the whole set.
"""
