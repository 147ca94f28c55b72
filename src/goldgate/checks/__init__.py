"""``goldgate check manifests|migrations|artifacts``: the gate's rules as stand-alone tools.

Each kind of check lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> list[Finding]``; :mod:`goldgate.checks.output` renders findings as text,
JSON or SARIF and turns them into the exit code, so every check behaves the same way a
policy tool (kube-score, Polaris) does in a pipeline.
"""
