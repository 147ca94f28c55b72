"""The checklist's records read from the systems that hold them (environment ``records:``).

Not a step vocabulary of its own: the checklist and readiness steps call these when the
environment configures a provider for the record, and keep their release.yaml reading
(declared) when it does not. release.yaml still names which records: the release
``commit`` (its pull request), the ``change_ticket``, the ``deployment_window``.
"""

from __future__ import annotations

from typing import Any

from goldgate.config import Environment, SecretResolutionError
from goldgate.criteria import records as criteria
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes.artifacts import ArtifactUnavailable, manifest
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.probes.records import RecordUnavailable
from goldgate.probes.records import read as records
from goldgate.verdict import Verdict

ERRORS = (RecordUnavailable, ArtifactUnavailable, SecretResolutionError)


def _manifest(release: ReleaseInputs) -> manifest.ReleaseManifest:
    return manifest.read_manifest(release.need("manifest"))


def _window(m: manifest.ReleaseManifest) -> tuple[Any, Any]:
    if m.window_start is None or m.window_end is None:
        raise ArtifactUnavailable(m.path, "deployment_window: start/end not set; the records are read over it")
    return m.window_start, m.window_end


def reviews(environment: Environment, release: ReleaseInputs, minimum: int) -> Verdict:
    def measure() -> tuple[Any, str]:
        m = _manifest(release)
        commit = str(m.raw.get("commit") or "").strip()
        if not commit:
            raise ArtifactUnavailable(m.path, "commit: not set; the code review is read from the release "
                                      "commit's pull request")
        return records.read_reviews(environment.records, commit), commit

    return measure_and_judge("code review approved by reviewers other than the author", measure,
                             lambda got: criteria.reviews_approved(got[0], got[1], minimum), ERRORS)


def on_call(environment: Environment, release: ReleaseInputs, criterion: str) -> Verdict:
    def measure() -> tuple[Any, Any, Any]:
        start, end = _window(_manifest(release))
        return records.read_on_call(environment.records, start, end), start, end

    return measure_and_judge(criterion, measure,
                             lambda got: criteria.on_call_covers(got[0], got[1], got[2], criterion=criterion), ERRORS)


def change(environment: Environment, release: ReleaseInputs) -> Verdict:
    src = environment.records.change

    def measure() -> tuple[Any, Any, Any]:
        m = _manifest(release)
        if not m.change_ticket:
            raise ArtifactUnavailable(m.path, "change_ticket: not set; the change request is read by its number")
        start, end = _window(m)
        return records.read_change(environment.records, m.change_ticket.strip()), start, end

    approvals = getattr(src, "approved_approvals", None)
    return measure_and_judge("change request approved and scheduled for the deployment window", measure,
                             lambda got: criteria.change_approved(got[0], got[1], got[2], src.approved_states,
                                                                  approvals), ERRORS)


def window(environment: Environment, release: ReleaseInputs, now: Any) -> Verdict:
    def measure() -> Any:
        m = _manifest(release)
        if not m.change_ticket:
            raise ArtifactUnavailable(m.path, "change_ticket: not set; the change request is read by its number")
        return records.read_change(environment.records, m.change_ticket.strip())

    return measure_and_judge("now is inside the change's planned window", measure,
                             lambda change: criteria.inside_planned_window(change, now), ERRORS)


def notified(environment: Environment, release: ReleaseInputs, audience: str) -> Verdict:
    crit = f"{audience} notified"

    def measure() -> tuple[Any, Any, list[str]]:
        m = _manifest(release)
        start, _ = _window(m)
        version = (m.version or environment.release.version).removeprefix("v")
        mentions = [w for w in (m.change_ticket, version) if w]
        return records.read_notifications(environment.records, start, m.change_ticket.strip()), start, mentions

    return measure_and_judge(crit, measure,
                             lambda got: criteria.notified_before(got[0], got[1], got[2], criterion=crit), ERRORS)
