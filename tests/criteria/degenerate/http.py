"""Degenerate inputs of the smoke checks' HTTP criteria: no answer, no timing, no body, no fields."""

from __future__ import annotations

from hypothesis import strategies as st

from goldgate.probes.http import HttpObservation

URL = "http://127.0.0.1:9/x"
NO_ANSWER = st.builds(HttpObservation, method=st.just("GET"), url=st.just(URL),
                      status=st.one_of(st.none(), st.integers(100, 599)),
                      error=st.sampled_from(["connection refused", "timed out", ""]))
NOT_A_TIME = st.sampled_from([None, float("nan"), float("inf"), float("-inf"), -1.0])
BODIES = st.sampled_from(["", "{}", "[]", "null", "not json", "\x00\xff", '{"status": null}'])


def _unanswered(obs: HttpObservation) -> HttpObservation:
    # an error string, even empty, or a missing status means there is no answer to judge
    return HttpObservation(obs.method, obs.url, status=None if obs.error == "" else obs.status,
                           error=obs.error or None)


CASES = {
    "http.answers_with": st.one_of(
        st.tuples(st.just("c"), NO_ANSWER.map(_unanswered)).map(lambda a: (a, {"budget_ms": 500.0})),
        st.tuples(st.just("c"), st.builds(HttpObservation, method=st.just("GET"), url=st.just(URL), status=st.just(200),
                                          elapsed_ms=NOT_A_TIME)).map(lambda a: (a, {"budget_ms": 500.0})),
    ),
    "http.metrics_expose": st.one_of(
        st.tuples(st.just("c"), st.builds(HttpObservation, method=st.just("GET"), url=st.just(URL), status=st.just(200),
                                          elapsed_ms=st.just(1.0), body=BODIES), st.just([])).map(lambda a: (a, {})),
        st.tuples(st.just("c"), st.builds(HttpObservation, method=st.just("GET"), url=st.just(URL), status=st.just(200),
                                          elapsed_ms=st.just(1.0), body=BODIES),
                  st.just(["http_requests_total"])).map(lambda a: (a, {})),
        st.tuples(st.just("c"), NO_ANSWER.map(_unanswered), st.just(["up"])).map(lambda a: (a, {})),
    ),
    "http.json_field_equals": st.tuples(
        st.just("c"), st.builds(HttpObservation, method=st.just("GET"), url=st.just(URL), status=st.just(200),
                                elapsed_ms=st.just(1.0), body=BODIES), st.just("version"), st.just("v1.2.0"),
    ).map(lambda a: (a, {})),
    "http.order_round_trip": st.tuples(
        st.just("c"),
        st.builds(HttpObservation, method=st.just("POST"), url=st.just(URL), status=st.just(201),
                  elapsed_ms=st.just(1.0), body=BODIES),
        st.one_of(st.none(), st.builds(HttpObservation, method=st.just("GET"), url=st.just(URL), status=st.just(200),
                                       elapsed_ms=st.just(1.0), body=BODIES)),
    ).map(lambda a: (a, {})),
}
