"""Code review from GitHub: the pull request that carries the release commit, and its reviews.

Two documented REST calls: "List pull requests associated with a commit"
(``GET /repos/{owner}/{repo}/commits/{sha}/pulls``) and "List reviews for a pull request"
(``GET /repos/{owner}/{repo}/pulls/{n}/reviews``, paged by the ``Link: rel="next"`` header).
Each review carries its author, state and ``commit_id``, which is what lets the criterion
drop stale reviews of older commits and the author's own approval.

Read through PyGithub, GitHub's maintained Python client: its requester carries the base
URL (GitHub Enterprise Server's ``/api/v3`` too), the token, the per-call timeout and the
mapping of every refusal to a ``GithubException`` with status and headers. Its own retry
(``GithubRetry`` waits for the rate-limit reset GitHub names, however far) and its pause
between requests are turned off: each call runs inside the shared reader's
:meth:`~goldgate.probes.records.client.RecordClient.run`, so the same retry count and
Retry-After budget bound GitHub as every other provider. The JSON is read as GitHub sends
it (``requestJsonAndCheck``), so a body that is not what the documentation shows is named
rather than half-read into PyGithub's objects.
Token: fine-grained, read-only "Pull requests" on the repository.
"""

from __future__ import annotations

import math
from typing import Any

import requests
from github import Auth, Github, GithubException

from goldgate.probes.records.client import (
    RecordClient,
    RecordUnavailable,
    Refusal,
    need,
    next_link,
    timestamp,
)
from goldgate.probes.records.facts import Review, ReviewRecord

PROVIDER = "GitHub"
MAX_PAGES = 20


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"}


def _github(client: RecordClient) -> Github:
    """PyGithub on the reader's URL and token, its own retries and throttling off."""
    token = str(client.headers.get("Authorization", "")).partition(" ")[2]
    return Github(base_url=client.base_url.rstrip("/"), auth=Auth.Token(token) if token else None,
                  timeout=max(1, math.ceil(client.timeout_s)), retry=0, per_page=100,  # whole seconds only
                  seconds_between_requests=None, seconds_between_writes=None)


def _refusal(exc: Exception) -> Refusal | None:
    if isinstance(exc, GithubException):
        return Refusal(exc.status, _header(exc.headers, "retry-after"))
    if isinstance(exc, requests.RequestException):
        return Refusal(None, detail=type(exc).__name__)
    if isinstance(exc, ValueError):
        return Refusal(200, detail="the body is not JSON")
    return None


def _header(headers: Any, name: str) -> str | None:
    """A header by name whatever its case (PyGithub hands headers over as a plain dict)."""
    return next((str(v) for k, v in dict(headers or {}).items() if k.lower() == name), None)


def _get(client: RecordClient, gh: Github, call: str, url: str,
         params: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    """Headers and JSON of one GET (``url`` a path under the base URL or a Link URL)."""
    return client.run(call, lambda: gh.requester.requestJsonAndCheck("GET", url, params), _refusal)


def read_reviews(client: RecordClient, repository: str, commit: str) -> ReviewRecord:
    """The release commit's pull request (merged or open) with every review on it."""
    gh = _github(client)
    call = f"GET /repos/{repository}/commits/{commit}/pulls"
    pulls = need(PROVIDER, call, _get(client, gh, call, f"/repos/{repository}/commits/{commit}/pulls")[1], list,
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
    url: str | None = f"/repos/{repository}/pulls/{number}/reviews"
    params: dict[str, int] | None = {"per_page": 100}
    for _ in range(MAX_PAGES):
        if url is None:
            break
        got, body = _get(client, gh, rcall, url, params)
        for item in need(PROVIDER, rcall, body, list, "the list of reviews"):
            reviews.append(_review(rcall, item))
        url, params = next_link(_header(got, "link") or ""), None
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
