"""Degenerate inputs of the require-measured policy (criteria/provenance.py): a declared
PASS of a check the environment lists, and verdicts that were never a PASS, never pass."""

from __future__ import annotations

from hypothesis import strategies as st

from goldgate.verdict import DECLARED, MEASURED, Status, Verdict

NAMES = st.sampled_from(["The on-call team is assigned", "on-call assigned", "tests/x.py::test_y"])


def _declared_pass(name: str) -> Verdict:
    return Verdict.passed(name, "alice, bob", "2 on-call roles", "release.yaml names them", provenance=DECLARED)


def _not_a_pass() -> st.SearchStrategy:
    return st.tuples(st.sampled_from([Status.FAIL, Status.INCONCLUSIVE, Status.ERROR]),
                     st.sampled_from([MEASURED, DECLARED])).map(
        lambda a: Verdict("on-call assigned", a[0], None, None, "x", provenance=a[1]))


CASES = {
    "provenance.require_measured": st.one_of(
        NAMES.map(lambda n: ((_declared_pass("on-call assigned"), [n], [n]), {})),
        NAMES.map(lambda n: ((_declared_pass(n), [], [n]), {})),
        st.tuples(_not_a_pass(), st.lists(NAMES, max_size=3)).map(lambda a: ((a[0], a[1], a[1]), {})),
    ),
}
