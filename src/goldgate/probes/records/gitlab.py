"""Code review from GitLab: the merge request that carries the release commit, and its approvals.

Documented calls: "List merge requests associated with a commit"
(``GET /projects/:id/repository/commits/:sha/merge_requests``, paged by the ``Link``
header) and "Merge request approvals" (``GET /projects/:id/merge_requests/:iid/approvals``:
``approved_by[].user.username`` and, where the tier has approval rules,
``approvals_required``). GitLab's approvals carry no commit: whether an approval still holds
after a push is the project's "Remove all approvals when commits are added" setting, so
each approval is taken as given to the request's head.

Read through python-gitlab, GitLab's maintained client: the project, commit and merge
request managers name the documented paths, its ``GitlabList`` follows the ``Link``
header, and every refusal is a ``GitlabError`` with its status. Its own retries (on 429
it sleeps whatever Retry-After says; on 5xx when asked) are turned off per request
(``obey_rate_limit=False``, ``retry_transient_errors=False``, ``max_retries=0``): the
first page, each following page and the approvals are each one call of the shared
reader's :meth:`~goldgate.probes.records.client.RecordClient.run`, so GitLab is bounded
by the same retry count and Retry-After budget as every provider. python-gitlab keeps
no headers on its errors, so the session's response hook keeps the last response for
its Retry-After. Token: a project access token with ``read_api`` (Reporter role).
"""

from __future__ import annotations

from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabError, GitlabParsingError

from goldgate.probes.records.client import RecordClient, RecordUnavailable, Refusal, need
from goldgate.probes.records.facts import Review, ReviewRecord

PROVIDER = "GitLab"
MAX_PAGES = 20
PAGE = 100
# python-gitlab's own retries, off for every request: the shared reader retries instead.
NO_RETRY: dict[str, Any] = {"obey_rate_limit": False, "retry_transient_errors": False, "max_retries": 0}


def headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token}


class _Session:
    """python-gitlab on the reader's URL and token, and the last response it received."""

    def __init__(self, client: RecordClient) -> None:
        session = requests.Session()
        self.last: requests.Response | None = None
        session.hooks["response"].append(self._keep)
        token = str(client.headers.get("PRIVATE-TOKEN", "")) or None
        # The reader's URL ends in /api/v4 (how read.py builds it); python-gitlab adds it itself.
        base = client.base_url.rstrip("/").removesuffix("/api/v4")
        self.gl = gitlab.Gitlab(base, private_token=token, timeout=client.timeout_s, retry_transient_errors=False,
                                session=session)

    def _keep(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = resp

    def bounded(self, client: RecordClient, fn: Any) -> Any:
        """``fn`` as a no-argument call whose timeout never runs past the probe's budget."""
        def call() -> Any:
            self.gl.timeout = client.call_timeout_s()
            return fn()
        return call

    def refusal(self, exc: Exception) -> Refusal | None:
        where = self.last.url if self.last is not None else ""
        if isinstance(exc, GitlabParsingError) or (isinstance(exc, GitlabError) and exc.response_code is None):
            return Refusal(200, where=where, detail="the body is not JSON")
        if isinstance(exc, GitlabError):
            after = self.last.headers.get("Retry-After") if self.last is not None else None
            return Refusal(int(exc.response_code or 0), after, where)
        if isinstance(exc, requests.RequestException):
            return Refusal(None, where=where, detail=type(exc).__name__)
        if isinstance(exc, KeyError | IndexError | TypeError):  # a page that is not the documented list
            return Refusal(200, where=where, detail="malformed body: not the documented list")
        return None


def _list(client: RecordClient, s: _Session, call: str, first: Any) -> list[dict]:
    """Every item of a GitlabList, the first page and each next one a bounded call."""
    pages = client.run(call, s.bounded(client, first), s.refusal)
    out: list[dict] = []
    for _ in range(MAX_PAGES * PAGE):
        try:
            item = client.run(call, s.bounded(client, lambda: next(pages)), s.refusal)
        except StopIteration:
            return out
        out.append(need(PROVIDER, call, item, dict, "a merge request"))
    raise RecordUnavailable(PROVIDER, call, f"more than {MAX_PAGES} pages of merge requests")


def read_approvals(client: RecordClient, project: str, commit: str) -> ReviewRecord:
    s = _Session(client)
    proj = s.gl.projects.get(project, lazy=True)
    call = f"GET /projects/{project}/repository/commits/{commit}/merge_requests"
    found = _list(client, s, call, lambda: proj.commits.get(commit, lazy=True).merge_requests(
        iterator=True, per_page=PAGE, **NO_RETRY))
    if not found:
        raise RecordUnavailable(PROVIDER, call, f"no merge request carries commit {commit}: nothing reviewed it")
    merged = [m for m in found if m.get("state") == "merged"] or found
    mr = merged[0]
    try:
        iid, author, head = int(mr["iid"]), str(mr["author"]["username"]), str(mr["sha"])
        merge = mr.get("merge_commit_sha") or mr.get("squash_commit_sha")
    except (KeyError, TypeError, ValueError):
        raise RecordUnavailable(PROVIDER, call, "malformed body: a merge request without iid, author.username "
                                "or sha") from None
    acall = f"GET /projects/{project}/merge_requests/{iid}/approvals"
    body = need(PROVIDER, acall, client.run(acall, s.bounded(client, lambda: proj.mergerequests.get(
        iid, lazy=True).approvals.get(**NO_RETRY).asdict()), s.refusal), dict, "the approvals")
    approvers = need(PROVIDER, acall, body.get("approved_by"), list, "approved_by")
    try:
        reviews = tuple(Review(str(a["user"]["username"]), "APPROVED", "") for a in approvers)
    except (KeyError, TypeError):
        raise RecordUnavailable(PROVIDER, acall, "malformed body: an approval without user.username") from None
    required = body.get("approvals_required")
    if required is not None and (not isinstance(required, int) or isinstance(required, bool)):
        raise RecordUnavailable(PROVIDER, acall, f"malformed body: approvals_required is {required!r}")
    return ReviewRecord(PROVIDER, f"{project}!{iid}", author, head, str(merge) if merge else None, reviews,
                        required=required, source=f"{s.gl.url}/projects/{proj.encoded_id}/merge_requests/{iid}")
