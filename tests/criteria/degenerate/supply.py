"""Degenerate inputs of the supply-chain criteria (guide §5.1-5.3, §9.1-9.2): no registry
answer, no running pod, digests and commits that are not hashes, nothing to compare."""

from __future__ import annotations

from hypothesis import strategies as st

DIGEST = "sha256:" + "a" * 64
COMMIT = "c" * 40
NOT_A_DIGEST = st.sampled_from(["", "sha256:", "sha256:xyz", "md5:" + "a" * 32, "latest", "nan"])
NOT_A_COMMIT = st.sampled_from(["", "v1.2.0", "abc", "g" * 40, "nan", "-1"])
NO_PODS = st.just({})
BAD_IDS = st.dictionaries(st.sampled_from(["pod-a", "pod-b"]),
                          st.sampled_from(["", "trading-bot", "trading-bot@", "trading-bot@sha256:zz", "nan"]),
                          min_size=1)


def _image_cases() -> st.SearchStrategy:
    image = st.sampled_from(["trading-bot:v1.2.0", "registry.io/trading-bot:v1.2.0"])
    missing_tag = st.tuples(image, st.just("http://127.0.0.1:1"), st.none(), st.one_of(NO_PODS, BAD_IDS))
    bad_digest = st.tuples(image, st.just("http://127.0.0.1:1"), NOT_A_DIGEST, st.one_of(NO_PODS, BAD_IDS))
    nobody_runs = st.tuples(image, st.just("http://127.0.0.1:1"), st.just(DIGEST), st.one_of(NO_PODS, BAD_IDS))
    untagged = st.tuples(st.sampled_from(["", "trading-bot", "registry.io:5000/trading-bot"]),
                         st.just("http://127.0.0.1:1"), st.just(DIGEST), st.just({"pod-a": f"trading-bot@{DIGEST}"}))
    return st.one_of(missing_tag, bad_digest, nobody_runs, untagged).map(lambda a: (a, {}))


def _tag_cases() -> st.SearchStrategy:
    no_release = st.tuples(st.just("v1.2.0"), st.one_of(st.none(), st.just(COMMIT)), st.one_of(st.none(), NOT_A_COMMIT),
                           st.just("/repo"), st.just("image"))
    bad_tag = st.tuples(st.just("v1.2.0"), st.one_of(st.none(), NOT_A_COMMIT), st.just(COMMIT), st.just("/repo"),
                        st.just("image"))
    no_version = st.tuples(st.just(""), st.just(COMMIT), st.just(COMMIT), st.just("/repo"), st.just("image"))
    return st.one_of(no_release, bad_tag, no_version).map(lambda a: (a, {}))


def _config_cases() -> st.SearchStrategy:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "trading-bot"},
                  "spec": {"replicas": 3}}
    nothing = st.just(("v1.2.0", "/repo", []))
    absent = st.just(("v1.2.0", "/repo", [("Deployment/trading-bot", deployment, None)]))
    malformed = st.sampled_from([None, [], "spec: 1", 3]).map(lambda d: ("v1.2.0", "/repo", [("x", d, {})]))
    drifted = st.sampled_from([{}, {"spec": {"replicas": 4}}, {"spec": None}, {"spec": {"replicas": float("nan")}},
                               {"spec": {"replicas": float("inf")}}, {"spec": {"replicas": -3}}]).map(
        lambda live: ("v1.2.0", "/repo", [("Deployment/trading-bot", deployment, live)]))
    return st.one_of(nothing, absent, malformed, drifted).map(lambda a: (a, {}))


CASES = {
    "supply.image_in_registry": _image_cases(),
    "supply.git_tag_at_release": _tag_cases(),
    "supply.config_matches_git": _config_cases(),
}
