"""Judge workload manifests by guide §7.2: probes, resources, rolling update, replicas, zones.

``goldgate check manifests PATH…`` (files, folders, ``-`` for stdin) reads every document,
judges every pod template and Service with the rules of
:mod:`goldgate.criteria.spec_rules`, and reports one finding per rule, workload and
container, located by file, document index and field path. The thresholds are the
``policy.workloads`` section of ``--env NAME`` (the guide's values when absent).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from goldgate.checks.output import CheckInputError, Finding
from goldgate.criteria.spec_rules import judge_manifests, no_workload
from goldgate.probes import manifests as reader
from goldgate.workload_policy import Policy, policy_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders; - reads stdin")
    parser.add_argument("--env", metavar="NAME", help="take policy.workloads of environments/NAME.yaml")
    parser.add_argument("--environments", metavar="DIR", default="environments",
                        help="folder of environment files (default: environments)")


def policy_for(args: argparse.Namespace) -> Policy:
    """The environment's policy, or the guide's values when no --env is given."""
    if not getattr(args, "env", None):
        return Policy()
    from goldgate.config import EnvironmentFileError, load_environment

    try:
        env = load_environment(args.env, Path(args.environments))
    except EnvironmentFileError as exc:
        raise CheckInputError(str(exc)) from None
    return policy_of(env)


def run(args: argparse.Namespace, stdin: Any = None) -> list[Finding]:
    policy = policy_for(args)
    try:
        inputs = [(path, reader.read([path], stdin)) for path in args.paths]
    except reader.ManifestsUnavailable as exc:
        raise CheckInputError(str(exc)) from None
    out: list[Finding] = []
    for path, files in inputs:
        found = [f for file in files for f in judge_file(file, policy)]
        if not any(f.verdict is not None for f in found):
            # a path (file or folder) with nothing to judge: never a silent pass
            kinds = [f.kind for f in found if f.kind]
            found.append(Finding(path, "workload-present", no_workload(path, kinds)))
        out += found
    return out


def judge_file(file: reader.ManifestFile, policy: Policy) -> list[Finding]:
    """Every finding of one file: rule verdicts, unreadable documents, kinds the rules do not apply to."""
    return [Finding(r.file, r.rule, r.verdict, r.document, r.kind, r.name, r.container, r.field, r.not_run)
            for r in judge_manifests([file], policy)]
