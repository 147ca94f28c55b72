"""GitLab approvals read as GitLab's REST documentation shows them, served on loopback.

Shapes from docs.gitlab.com: "Commits API - List merge requests associated with a commit"
(GET /projects/:id/repository/commits/:sha/merge_requests: iid, state, author.username,
sha, merge_commit_sha; paged with the Link header) and "Merge request approvals API - Get
approval state/configuration" (GET /projects/:id/merge_requests/:iid/approvals:
approved_by[].user, approvals_required, approvals_left).
"""

from __future__ import annotations

from typing import Any

import pytest

from goldgate.criteria.records import reviews_approved
from goldgate.probes.records import gitlab
from goldgate.probes.records.client import RecordUnavailable
from goldgate.verdict import Status
from tests.records.fake import rate_limited_once, serve

PROJECT = "trading/bot"
HEAD = "af5b13261899fb2c0db30abdd0af8b07cb44fdc5"
MERGE = "3f8b2c6d1e0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c"


def mr(iid: int, state: str = "merged") -> dict[str, Any]:
    return {"id": 100 + iid, "iid": iid, "project_id": 3, "title": "Lower the order size", "state": state,
            "author": {"id": 1, "username": "ann", "name": "Ann Author"}, "sha": HEAD,
            "merge_commit_sha": MERGE if state == "merged" else None, "squash_commit_sha": None,
            "web_url": f"https://gitlab.example.com/{PROJECT}/-/merge_requests/{iid}"}


def approvals(users: list[str], required: int | None = 2) -> dict[str, Any]:
    body: dict[str, Any] = {"id": 105, "iid": 5, "project_id": 3, "title": "Lower the order size", "state": "merged",
                            "approved": True, "approvals_left": 0,
                            "approved_by": [{"user": {"name": u.title(), "username": u, "id": i}}
                                            for i, u in enumerate(users)]}
    if required is not None:
        body["approvals_required"] = required
    return body


def forge(users: list[str], required: int | None = 2):
    def answer(path: str, query: dict[str, str]):
        if path == f"/api/v4/projects/trading%2Fbot/repository/commits/{MERGE}/merge_requests":
            if query.get("page") == "2":
                return 200, {}, [mr(5)]
            return 200, {"Link": f'<{{url}}/api/v4/projects/trading%2Fbot/repository/commits/{MERGE}/merge_requests'
                                 f'?page=2&per_page=1>; rel="next"'}, [mr(4, "closed")]
        if path == "/api/v4/projects/trading%2Fbot/merge_requests/5/approvals":
            return 200, {}, approvals(users, required)
        return 404, {}, {"message": "404 Not found"}

    return answer


def read(client, handler):
    with serve(handler) as fake:
        c = client("GitLab", f"{fake.url}/api/v4", gitlab.headers("glpat-test"))
        return gitlab.read_approvals(c, PROJECT, MERGE), fake, c


def test_two_approvals_pass_after_reading_both_pages(client) -> None:
    record, fake, _ = read(client, forge(["bob", "cy"]))
    assert record.record_id == "trading/bot!5" and len(fake.requests) == 3
    assert fake.requests[0].headers["PRIVATE-TOKEN"] == "glpat-test"
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.PASS and "trading/bot!5" in v.reason


def test_the_authors_approval_does_not_count(client) -> None:
    record, _, _ = read(client, forge(["ann", "bob"]))
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.FAIL and "ann is the author" in v.reason and "trading/bot!5" in v.reason


def test_the_projects_own_rule_raises_the_minimum(client) -> None:
    record, _, _ = read(client, forge(["bob", "cy"], required=3))
    v = reviews_approved(record, MERGE, 2)
    assert v.status is Status.FAIL and v.threshold == 3


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_error_naming_gitlab(client, status: int) -> None:
    with pytest.raises(RecordUnavailable, match=rf"GitLab GET /projects/{PROJECT}/repository.*: HTTP {status}"):
        read(client, lambda p, q: (status, {}, {"message": "401 Unauthorized"}))


def test_retry_after_is_honoured(client) -> None:
    record, _, c = read(client, rate_limited_once(forge(["bob", "cy"]), "1"))
    assert c.waits == [1.0] and len(record.reviews) == 2


@pytest.mark.parametrize("body", ["<html/>", {"approved_by": "x"}, [{"iid": 5}]])
def test_a_malformed_body_is_an_error(client, body: object) -> None:
    with pytest.raises(RecordUnavailable, match=r"GitLab GET .*(not JSON|malformed)"):
        read(client, lambda p, q: (200, {}, body))


def test_python_gitlabs_own_retry_is_off_and_the_readers_bounds_hold(client) -> None:
    """A 503 is asked 1 + retries times (python-gitlab alone would retry it up to 10 times)."""
    with serve(lambda p, q: (503, {}, {"message": "503 Service Unavailable"})) as fake:
        c = client("GitLab", f"{fake.url}/api/v4", gitlab.headers("glpat-test"))
        with pytest.raises(RecordUnavailable, match=r"GitLab GET /projects/trading/bot/repository.*: HTTP 503"):
            gitlab.read_approvals(c, PROJECT, MERGE)
    assert len(fake.requests) == 3 and c.waits == [0.2, 0.4]
