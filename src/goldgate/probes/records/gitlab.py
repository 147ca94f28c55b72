"""Code review from GitLab: the merge request that carries the release commit, and its approvals.

Documented calls: "List merge requests associated with a commit"
(``GET /projects/:id/repository/commits/:sha/merge_requests``, paged by the ``Link``
header) and "Merge request approvals" (``GET /projects/:id/merge_requests/:iid/approvals``:
``approved_by[].user.username`` and, where the tier has approval rules,
``approvals_required``). GitLab's approvals carry no commit: whether an approval still holds
after a push is the project's "Remove all approvals when commits are added" setting, so
each approval is taken as given to the request's head.

Read with ``requests`` on the shared bounded reader (python-gitlab would add a dependency
for two GETs, and its own retry on 429 follows its own schedule). Token: a project access
token with ``read_api`` (Reporter role).
"""

from __future__ import annotations

from urllib.parse import quote

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need
from goldgate.probes.records.facts import Review, ReviewRecord
from goldgate.probes.records.github import _next_link

PROVIDER = "GitLab"
MAX_PAGES = 20


def headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token}


def read_approvals(client: RecordClient, project: str, commit: str) -> ReviewRecord:
    pid = quote(project, safe="")
    call = f"GET /projects/{project}/repository/commits/{commit}/merge_requests"
    url: str | None = f"projects/{pid}/repository/commits/{commit}/merge_requests"
    params: dict[str, int] | None = {"per_page": 100}
    found: list[dict] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        reply = client.get(call, url, params)
        found += [need(PROVIDER, call, m, dict, "a merge request")
                  for m in need(PROVIDER, call, reply.body, list, "the list of merge requests")]
        url, params = _next_link(reply.headers.get("Link", "")), None
    else:
        raise RecordUnavailable(PROVIDER, call, f"more than {MAX_PAGES} pages of merge requests")
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
    body = need(PROVIDER, acall, client.get(acall, f"projects/{pid}/merge_requests/{iid}/approvals").body, dict,
                "the approvals")
    approvers = need(PROVIDER, acall, body.get("approved_by"), list, "approved_by")
    try:
        reviews = tuple(Review(str(a["user"]["username"]), "APPROVED", "") for a in approvers)
    except (KeyError, TypeError):
        raise RecordUnavailable(PROVIDER, acall, "malformed body: an approval without user.username") from None
    required = body.get("approvals_required")
    if required is not None and (not isinstance(required, int) or isinstance(required, bool)):
        raise RecordUnavailable(PROVIDER, acall, f"malformed body: approvals_required is {required!r}")
    return ReviewRecord(PROVIDER, f"{project}!{iid}", author, head, str(merge) if merge else None, reviews,
                        required=required, source=client.url(f"projects/{pid}/merge_requests/{iid}"))
