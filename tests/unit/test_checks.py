"""Check expressions: parsing, errors, and evaluation on a recorded run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from locust_fleet.checks import (
    CheckSyntaxError,
    evaluate_check,
    evaluate_checks,
    parse_check,
    parse_checks,
)
from locust_fleet.results import RunResults, load_run

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"


@pytest.fixture(scope="module")
def standalone() -> RunResults:
    return load_run(DATA / "standalone")


@pytest.mark.parametrize(
    ("expression", "metric", "op", "threshold", "endpoint"),
    [
        ("fail_ratio<0.01", "fail_ratio", "<", 0.01, None),
        ("p95<500", "p95", "<", 500, None),
        ("p99 < 1200", "p99", "<", 1200, None),
        ("p99<1.2s", "p99", "<", 1200, None),
        ("avg<=200ms", "avg", "<=", 200, None),
        ("rps>100", "rps", ">", 100, None),
        ("RPS>=1e2", "rps", ">=", 100, None),
        ("fail_ratio<1%", "fail_ratio", "<", 0.01, None),
        ("p99.9<2000", "p99.9", "<", 2000, None),
        ("GET /about:p95<300", "p95", "<", 300, "GET /about"),
        ("/about:p95<300", "p95", "<", 300, "/about"),
        ("http://h:8080/a:p95<3", "p95", "<", 3, "http://h:8080/a"),
    ],
)
def test_parse(expression: str, metric: str, op: str, threshold: float, endpoint: str | None):
    check = parse_check(expression)
    assert (check.metric, check.op) == (metric, op)
    assert check.threshold == pytest.approx(threshold)
    assert (check.endpoint.text if check.endpoint else None) == endpoint


def test_endpoint_ref_splits_method_and_name() -> None:
    ref = parse_check("GET /about:p95<300").endpoint
    assert ref is not None and (ref.method, ref.name) == ("GET", "/about")
    ref = parse_check("/about:p95<300").endpoint
    assert ref is not None and (ref.method, ref.name) == (None, "/about")


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("", "empty expression"),
        ("p95 500", "no comparison operator (one of <, <=, >, >=)"),
        ("p95=500", "operator '=' is not one of <, <=, >, >="),
        ("p95<<500", "operator '<<' is not one of"),
        ("p95<", "no value after the operator"),
        ("<500", "no metric before the operator"),
        ("p95<fast", "value 'fast' is not a number"),
        ("latency<500", "unknown metric 'latency'"),
        ("p95<5%", "unit '%' does not fit metric 'p95' (ms)"),
        ("fail_ratio<5ms", "unit 'ms' does not fit metric 'fail_ratio' (ratio)"),
        ("p0<5", "percentile 'p0' must be above p0 and at most p100"),
        ("p101<5", "percentile 'p101' must be above p0"),
    ],
)
def test_bad_expressions_say_why(expression: str, problem: str) -> None:
    with pytest.raises(CheckSyntaxError) as caught:
        parse_check(expression)
    first_line = str(caught.value).splitlines()[0]
    assert first_line.startswith(f"invalid check {expression!r}: {problem}")


def test_error_lists_valid_metrics_and_operators() -> None:
    with pytest.raises(ValueError) as caught:  # CheckSyntaxError is a ValueError
        parse_check("latency<500")
    text = str(caught.value)
    for word in ("fail_ratio", "rps", "avg", "median", "p95", "p99.9", "<=", ">="):
        assert word in text


def test_parse_checks_fails_on_the_first_bad_one() -> None:
    with pytest.raises(CheckSyntaxError, match="'nope<1'"):
        parse_checks(["p95<500", "nope<1", "p99<900"])


def test_evaluate_on_the_aggregated_row(standalone: RunResults) -> None:
    results = evaluate_checks(
        standalone, ["fail_ratio<0.01", "p95<500", "rps>100", "p99<9", "p99<=9", "avg<6"]
    )
    assert [r.passed for r in results] == [False, True, True, False, True, False]
    assert results[0].actual == pytest.approx(205 / 2043)
    assert results[1].actual == 7
    assert results[2].actual == pytest.approx(145.85494133360126)
    assert results[5].actual == pytest.approx(6.868372667645808)
    assert results[0].message == ("fail_ratio on Aggregated was 10.03%; required < 1%: FAILED")


def test_evaluate_on_one_endpoint(standalone: RunResults) -> None:
    by_method, by_name, failing, count = evaluate_checks(
        standalone,
        [
            "GET /about:p95<300",
            "/about:requests>700",
            "/missing:fail_ratio<0.5",
            "GET /:failures<1",
        ],
    )
    assert by_method.passed and by_method.actual == 7
    assert by_name.passed and by_name.actual == 735
    assert not failing.passed and failing.actual == 1.0
    assert "GET /missing" in failing.message
    assert count.passed and count.actual == 0


def test_unknown_endpoint_fails_and_lists_the_known_ones(standalone: RunResults) -> None:
    (result,) = evaluate_checks(standalone, ["GET /abuot:p95<300"])
    assert not result.passed and result.actual is None
    assert "'GET /abuot' is not in the results" in result.message
    assert "'GET /about'" in result.message


def test_unreported_percentile_fails(standalone: RunResults) -> None:
    (result,) = evaluate_checks(standalone, ["p97<300"])
    assert not result.passed
    assert "Locust did not report p97" in result.message and "p99.9" in result.message


def test_ambiguous_name_and_names_with_spaces(standalone: RunResults) -> None:
    about = standalone.find_endpoints("/about")[0]
    post = dataclasses.replace(about, method="POST", request_count=10, failure_count=0)
    flow = dataclasses.replace(about, method="", name="login flow", request_count=3)
    results = dataclasses.replace(standalone, endpoints=(*standalone.endpoints, post, flow))
    ambiguous, precise, spaced = evaluate_checks(
        results, ["/about:p95<300", "POST /about:requests<11", "login flow:requests>2"]
    )
    assert not ambiguous.passed and "ambiguous" in ambiguous.message
    assert precise.passed and precise.actual == 10
    assert spaced.passed and spaced.actual == 3


def test_endpoint_without_requests_fails(standalone: RunResults) -> None:
    empty = dataclasses.replace(
        standalone.find_endpoints("/about")[0],
        name="/idle",
        request_count=0,
        failure_count=0,
        percentiles=dict.fromkeys(standalone.aggregated.percentiles),
    )
    results = dataclasses.replace(standalone, endpoints=(*standalone.endpoints, empty))
    ratio, latency = evaluate_checks(results, ["/idle:fail_ratio<0.01", "/idle:p95<100"])
    assert not ratio.passed and "had no requests" in ratio.message
    assert not latency.passed and "had no requests" in latency.message


def test_evaluate_accepts_parsed_checks(standalone: RunResults) -> None:
    check = parse_check("p95<500")
    assert evaluate_check(standalone, check).passed
    assert evaluate_checks(standalone, [check])[0].check is check


def test_describe() -> None:
    assert parse_check("GET /about:p99<1.2s").describe() == "p99 < 1200 ms on GET /about"
    assert parse_check("fail_ratio<0.5%").describe() == "fail_ratio < 0.5% on Aggregated"
