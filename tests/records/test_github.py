"""GitHub reviews read as GitHub's REST documentation shows them, served on loopback.

Shapes from docs.github.com "REST API endpoints for pull requests": "List pull requests
associated with a commit" (GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls: number,
user.login, head.sha, merge_commit_sha) and "List reviews for a pull request"
(GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews: id, user.login, state, commit_id,
submitted_at; paged with the Link header's rel="next").
"""

from __future__ import annotations

from typing import Any

import pytest

from goldgate.criteria.records import reviews_approved
from goldgate.probes.records import github
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

REPO = "octo-org/trading-bot"
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
OLD = "1111111111111111111111111111111111111111"
MERGE = "e5bd3914e2e596debea16f433f57875b5b90bcd6"


def pull(author: str = "ann") -> dict[str, Any]:
    return {"url": f"https://api.github.com/repos/{REPO}/pulls/1347", "id": 1, "number": 1347, "state": "closed",
            "title": "Amazing new feature", "user": {"login": author, "id": 1, "type": "User"},
            "head": {"label": "octo-org:new-topic", "ref": "new-topic", "sha": HEAD},
            "base": {"label": "octo-org:main", "ref": "main", "sha": OLD}, "merge_commit_sha": MERGE,
            "merged_at": "2026-11-30T12:00:00Z"}


def review(n: int, login: str, state: str, commit: str = HEAD) -> dict[str, Any]:
    return {"id": 80 + n, "node_id": f"MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA{n}", "user": {"login": login, "id": n},
            "body": "Here is the body for the review.", "state": state,
            "html_url": f"https://github.com/{REPO}/pull/1347#pullrequestreview-{80 + n}",
            "pull_request_url": f"https://api.github.com/repos/{REPO}/pulls/1347",
            "submitted_at": f"2026-11-30T1{n % 10}:00:00Z", "commit_id": commit, "author_association": "COLLABORATOR"}


def forge(reviews: list[dict[str, Any]], page: int = 100):
    def answer(path: str, query: dict[str, str]):
        if path == f"/repos/{REPO}/commits/{MERGE}/pulls":
            other = {**pull(), "number": 1200, "merge_commit_sha": OLD, "head": {"sha": OLD}}
            return 200, {}, [other, pull()]
        if path == f"/repos/{REPO}/pulls/1347/reviews":
            start = int(query.get("page", "1"))
            chunk = reviews[(start - 1) * page: start * page]
            more = start * page < len(reviews)
            link = {"Link": f'<{{url}}/repos/{REPO}/pulls/1347/reviews?page={start + 1}>; rel="next", '
                            f'<{{url}}/repos/{REPO}/pulls/1347/reviews?page=9>; rel="last"'} if more else {}
            return 200, link, chunk
        return 404, {}, {"message": "Not Found"}

    return answer


def read(client, handler):
    with serve(handler) as fake:
        c = client("GitHub", fake.url, github.headers("ghp-test-token"))
        return github.read_reviews(c, REPO, MERGE), fake, c


def test_two_independent_approvals_on_the_head_pass(client) -> None:
    record, fake, _ = read(client, forge([review(1, "bob", "APPROVED"), review(2, "cy", "APPROVED")]))
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.PASS and f"{REPO}#1347" in v.reason and v.provenance == "measured"
    # PyGithub sends the token in the "token" form GitHub documents beside "Bearer".
    assert fake.requests[0].headers["Authorization"] == "token ghp-test-token"


def test_reviews_are_read_across_pages(client) -> None:
    many = [review(i, f"u{i}", "COMMENTED") for i in range(5)] + [review(7, "bob", "APPROVED"), review(8, "cy", "APPROVED")]
    record, fake, _ = read(client, forge(many, page=3))
    assert len(record.reviews) == 7 and len([r for r in fake.requests if r.path.endswith("/reviews")]) == 3
    assert reviews_approved(record, MERGE, 2).status is Status.PASS


def test_the_authors_own_approval_does_not_count(client) -> None:
    record, _, _ = read(client, forge([review(1, "ann", "APPROVED"), review(2, "bob", "APPROVED")]))
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.FAIL and "ann is the author" in v.reason and f"{REPO}#1347" in v.reason
    assert (v.observed, v.threshold) == (1, 2)


def test_a_dismissed_review_does_not_count(client) -> None:
    record, _, _ = read(client, forge([review(1, "bob", "APPROVED"), review(2, "cy", "APPROVED"),
                                       review(3, "cy", "DISMISSED")]))
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.FAIL and "cy's review was dismissed" in v.reason and f"{REPO}#1347" in v.reason


def test_a_stale_approval_of_an_older_commit_does_not_count(client) -> None:
    record, _, _ = read(client, forge([review(1, "bob", "APPROVED"), review(2, "cy", "APPROVED", OLD)]))
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.FAIL and "(stale)" in v.reason


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_error_naming_github(client, status: int) -> None:
    with pytest.raises(RecordUnavailable, match=rf"GitHub GET /repos/{REPO}/commits/.*/pulls: HTTP {status}") as exc:
        read(client, lambda p, q: (status, {}, {"message": "Bad credentials"}))
    assert "ghp-test-token" not in str(exc.value)


def test_retry_after_is_honoured(client) -> None:
    record, _fake, c = read(client, rate_limited_once(forge([review(1, "bob", "APPROVED")]), "3"))
    assert c.waits == [3.0] and record.reviews


def test_a_retry_after_beyond_the_budget_is_an_error(client) -> None:
    with pytest.raises(RecordUnavailable, match=r"GitHub .*HTTP 429.*exceed"):
        read(client, rate_limited_once(forge([]), "60"))


@pytest.mark.parametrize("body", ["<html>oops</html>", {"message": "not a list"}, [{"number": 1}], [{"head": "x"}], [3]])
def test_a_malformed_body_is_an_error(client, body: object) -> None:
    with pytest.raises(RecordUnavailable, match=r"GitHub GET .*(not JSON|malformed)"):
        read(client, lambda p, q: (200, {}, body))


def test_pygithubs_own_retry_is_off_and_the_readers_bounds_hold(client) -> None:
    """A 503 is asked 1 + retries times (PyGithub's default GithubRetry would retry it itself)."""
    with serve(lambda p, q: (503, {}, {"message": "Service Unavailable"})) as fake:
        c = client("GitHub", fake.url, github.headers("ghp-test-token"))
        with pytest.raises(RecordUnavailable, match=rf"GitHub GET /repos/{REPO}/commits/.*/pulls: HTTP 503"):
            github.read_reviews(c, REPO, MERGE)
    assert len(fake.requests) == 3 and c.waits == [0.2, 0.4]
