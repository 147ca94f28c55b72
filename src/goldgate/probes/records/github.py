"""Code review from GitHub: the pull request that carries the release commit, and its reviews.

Two documented REST calls: "List pull requests associated with a commit"
(``GET /repos/{owner}/{repo}/commits/{sha}/pulls``) and "List reviews for a pull request"
(``GET /repos/{owner}/{repo}/pulls/{n}/reviews``, paged by the ``Link: rel="next"`` header).
Each review carries its author, state and ``commit_id``, which is what lets the criterion
drop stale reviews of older commits and the author's own approval.

Read with ``requests`` on the shared bounded reader rather than PyGithub, so that one
timeout, retry count and Retry-After budget bounds every provider alike (PyGithub's default
retry waits for the rate-limit reset GitHub names); two GETs and a Link header are all this
needs. Token: fine-grained, read-only "Pull requests" on the repository.
"""

from __future__ import annotations

from goldgate.probes.records.client import RecordClient, RecordUnavailable, need, timestamp
from goldgate.probes.records.facts import Review, ReviewRecord

PROVIDER = "GitHub"
MAX_PAGES = 20


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"}


def read_reviews(client: RecordClient, repository: str, commit: str) -> ReviewRecord:
    """The release commit's pull request (merged or open) with every review on it."""
    call = f"GET /repos/{repository}/commits/{commit}/pulls"
    pulls = need(PROVIDER, call, client.get(call, f"repos/{repository}/commits/{commit}/pulls").body, list,
                 "the list of pull requests")
    if not pulls:
        raise RecordUnavailable(PROVIDER, call, f"no pull request carries commit {commit}: nothing reviewed it")
    pulls = [need(PROVIDER, call, p, dict, "a pull request") for p in pulls]
    # A commit can sit on several pull requests (a backport, a reverted attempt): the one that
    # merged it or ends on it is the one that released it.
    pr = next((p for p in pulls if commit in (p.get("merge_commit_sha"), _head(p))), pulls[0])
    try:
        number, author = int(pr["number"]), str(pr["user"]["login"])
        head, merge = str(pr["head"]["sha"]), pr.get("merge_commit_sha")
    except (KeyError, TypeError, ValueError):
        raise RecordUnavailable(PROVIDER, call, "malformed body: a pull request without number, user.login "
                                "or head.sha") from None
    reviews: list[Review] = []
    rcall = f"GET /repos/{repository}/pulls/{number}/reviews"
    url: str | None = f"repos/{repository}/pulls/{number}/reviews"
    params: dict[str, int] | None = {"per_page": 100}
    for _ in range(MAX_PAGES):
        if url is None:
            break
        reply = client.get(rcall, url, params)
        for item in need(PROVIDER, rcall, reply.body, list, "the list of reviews"):
            reviews.append(_review(rcall, item))
        url, params = _next_link(reply.headers.get("Link", "")), None
    else:
        raise RecordUnavailable(PROVIDER, rcall, f"more than {MAX_PAGES} pages of reviews")
    return ReviewRecord(PROVIDER, f"{repository}#{number}", author, head, str(merge) if merge else None,
                        tuple(reviews), source=client.url(f"repos/{repository}/pulls/{number}"))


def _head(pull: dict) -> object:
    head = pull.get("head")
    return head.get("sha") if isinstance(head, dict) else None


def _review(call: str, item: object) -> Review:
    item = need(PROVIDER, call, item, dict, "a review")
    try:
        user = item["user"] or {}
        return Review(str(user.get("login", "")), str(item["state"]), str(item.get("commit_id") or ""),
                      timestamp(PROVIDER, call, item.get("submitted_at"), "submitted_at", nullable=True),
                      str(item.get("id", "")))
    except (KeyError, TypeError, AttributeError):
        raise RecordUnavailable(PROVIDER, call, "malformed body: a review without user or state") from None


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a Link header (RFC 8288), as GitHub pages its lists."""
    for part in header.split(","):
        bits = part.split(";")
        if len(bits) >= 2 and any(b.strip() == 'rel="next"' for b in bits[1:]):
            return bits[0].strip().strip("<>")
    return None
