"""Pass/fail thresholds ("checks") evaluated on a run's stats.

A check is ``[ENDPOINT:]METRIC OP VALUE[UNIT]``::

    fail_ratio<0.01        p95<500        p99<1.2s        rps>100
    avg<=200ms             fail_ratio<1%  "GET /about:p95<300"   "/about:p95<300"

- METRIC: see :data:`METRICS` (``fail_ratio``, ``failures``, ``requests``, ``rps``,
  ``fail_rps``, ``avg``, ``min``, ``max``, ``median``) or a percentile ``pN`` such
  as ``p50``, ``p95``, ``p99``, ``p99.9`` (whatever Locust reported).
- OP: ``<``, ``<=``, ``>``, ``>=``.
- VALUE: a number; latencies are in ms, or suffixed ``ms``/``s``; ``fail_ratio``
  is a fraction, or suffixed ``%``.
- ENDPOINT (optional, before the last ``:``): ``METHOD NAME`` (``GET /about``) or
  the name alone (``/about``); without it the check reads the ``Aggregated`` row.

API::

    parse_check(expr) -> Check                      # CheckSyntaxError (ValueError) if bad
    evaluate_checks(results, exprs) -> list[CheckResult]

A check that cannot be evaluated on the data (unknown endpoint, no requests,
percentile not reported) is a *failed* check with a message saying why: a CI
gate must not pass on a typo.

A run that made no request at all fails an implicit ``requests>0`` (exit 3) unless a
check on the aggregated ``requests`` replaces it or ``--allow-no-requests`` accepts
it: see :mod:`locust_fleet.outcome`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from locust_fleet.results.model import AGGREGATED_NAME, EndpointStats, RunResults


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    unit: str  # "ms", "ratio", "req/s", "count"
    read: Callable[[EndpointStats], float | None]


def _count(value: int) -> float:
    return float(value)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("fail_ratio", "failed / all requests (0..1)", "ratio", lambda s: s.fail_ratio),
        Metric("failures", "number of failed requests", "count", lambda s: _count(s.failure_count)),
        Metric("requests", "number of requests", "count", lambda s: _count(s.request_count)),
        Metric("rps", "requests per second", "req/s", lambda s: s.requests_per_s),
        Metric("fail_rps", "failed requests per second", "req/s", lambda s: s.failures_per_s),
        Metric("avg", "average response time", "ms", lambda s: s.average_ms),
        Metric("min", "fastest response time", "ms", lambda s: s.min_ms),
        Metric("max", "slowest response time", "ms", lambda s: s.max_ms),
        Metric("median", "median response time", "ms", lambda s: s.median_ms),
    )
}
PERCENTILE_HELP = "pN: Nth percentile response time in ms (p50, p90, p95, p99, p99.9, ...)"
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_EXPRESSION = re.compile(
    r"""^\s*(?:(?P<endpoint>.*\S)\s*:)?\s*
    (?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*
    (?P<op><=|>=|<|>)\s*
    (?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*
    (?P<unit>ms|s|%)?\s*$""",
    re.VERBOSE,
)
_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")
_LOOSE = re.compile(r"^\s*(?:.*:)?\s*(?P<metric>[^<>=!\s]*)\s*(?P<op>[<>=!]*)\s*(?P<value>.*?)\s*$")


def _diagnose(expression: str) -> str:
    """Why ``expression`` did not match, as precisely as can be said."""
    loose = _LOOSE.match(expression)
    if not expression.strip():
        return "empty expression"
    if loose is None or not loose.group("op"):
        return f"no comparison operator (one of {', '.join(OPERATORS)})"
    if loose.group("op") not in OPERATORS:
        return f"operator {loose.group('op')!r} is not one of {', '.join(OPERATORS)}"
    if not loose.group("metric"):
        return "no metric before the operator"
    if not loose.group("value"):
        return "no value after the operator"
    return f"value {loose.group('value')!r} is not a number (with an optional ms, s or % unit)"


class CheckSyntaxError(ValueError):
    """A check expression that cannot be parsed; the message lists what is valid."""

    def __init__(self, expression: str, problem: str) -> None:
        self.expression = expression
        self.problem = problem
        super().__init__(f"invalid check {expression!r}: {problem}\n{usage()}")


def usage() -> str:
    """The check syntax, metrics and operators, for error messages and ``--help``."""
    metrics = "\n".join(f"  {m.name:<11} {m.description}" for m in METRICS.values())
    return (
        "A check is [ENDPOINT:]METRIC OP VALUE, e.g. 'p95<500', 'fail_ratio<0.01', "
        "'rps>100', 'GET /about:p99<1200'.\n"
        f"Metrics:\n{metrics}\n  {PERCENTILE_HELP}\n"
        f"Operators: {', '.join(OPERATORS)}\n"
        "Units: latencies in ms (or suffix ms / s); fail_ratio as a fraction (or suffix %)."
    )


@dataclass(frozen=True)
class EndpointRef:
    """The endpoint part of a check as written: ``GET /about`` or ``/about``."""

    text: str

    @property
    def method(self) -> str | None:
        parts = self.text.split(None, 1)
        return parts[0] if len(parts) == 2 else None

    @property
    def name(self) -> str:
        parts = self.text.split(None, 1)
        return parts[1] if len(parts) == 2 else self.text


@dataclass(frozen=True)
class Check:
    """A parsed check. ``threshold`` is in the metric's base unit (ms, fraction, ...)."""

    expression: str
    metric: str
    op: str
    threshold: float
    endpoint: EndpointRef | None = None

    @property
    def target(self) -> str:
        return self.endpoint.text if self.endpoint else AGGREGATED_NAME

    @property
    def unit(self) -> str:
        return "ms" if self.percentile is not None else METRICS[self.metric].unit

    @property
    def percentile(self) -> float | None:
        match = _PERCENTILE.match(self.metric)
        return float(match.group(1)) if match else None

    def describe(self) -> str:
        """``p95 < 500 ms on Aggregated``."""
        return f"{self.metric} {self.op} {format_value(self.threshold, self.unit)} on {self.target}"

    def read(self, row: EndpointStats) -> float | None:
        percent = self.percentile
        if percent is None:
            return METRICS[self.metric].read(row)
        return row.percentiles.get(percent)


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    actual: float | None
    message: str


def format_value(value: float | None, unit: str) -> str:
    """A metric value for people: ``512 ms``, ``0.52%``, ``143.2 req/s``, ``12``."""
    if value is None or math.isnan(value):
        return "n/a"
    if unit == "ratio":
        return f"{value * 100:.4g}%"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.3g} ms"
    return f"{value:.1f} {unit}"


def _threshold(expression: str, metric: str, value: float, unit: str | None) -> float:
    base = "ms" if _PERCENTILE.match(metric) else METRICS[metric].unit
    if unit is None:
        return value
    if base == "ms" and unit in ("ms", "s"):
        return value * 1000 if unit == "s" else value
    if base == "ratio" and unit == "%":
        return value / 100
    raise CheckSyntaxError(expression, f"unit {unit!r} does not fit metric {metric!r} ({base})")


def parse_check(expression: str) -> Check:
    """Parse one check expression; :class:`CheckSyntaxError` if it is not valid."""
    match = _EXPRESSION.match(expression)
    if not match:
        raise CheckSyntaxError(expression, _diagnose(expression))
    metric = match.group("metric").lower()
    percentile = _PERCENTILE.match(metric)
    if metric not in METRICS and not percentile:
        raise CheckSyntaxError(expression, f"unknown metric {match.group('metric')!r}")
    if percentile and not 0 < float(percentile.group(1)) <= 100:
        raise CheckSyntaxError(
            expression, f"percentile {metric!r} must be above p0 and at most p100"
        )
    threshold = _threshold(expression, metric, float(match.group("value")), match.group("unit"))
    endpoint = match.group("endpoint")
    return Check(
        expression=expression.strip(),
        metric=metric,
        op=match.group("op"),
        threshold=threshold,
        endpoint=EndpointRef(endpoint.strip()) if endpoint else None,
    )


def parse_checks(expressions: Iterable[str]) -> list[Check]:
    """Parse every expression, so a bad one fails before any load is generated."""
    return [parse_check(e) for e in expressions]


def _find_row(results: RunResults, ref: EndpointRef | None) -> EndpointStats | str:
    """The row a check reads, or a message saying why there is none."""
    if ref is None or ref.text == AGGREGATED_NAME:
        return results.aggregated
    if ref.method is not None:
        rows = results.find_endpoints(ref.name, ref.method)
        if not rows:  # the name itself may contain a space ("login flow")
            rows = results.find_endpoints(ref.text)
    else:
        rows = results.find_endpoints(ref.name)
    if len(rows) == 1:
        return rows[0]
    known = ", ".join(repr(r.label) for r in results.endpoints) or "none"
    if not rows:
        return f"endpoint {ref.text!r} is not in the results (endpoints: {known})"
    labels = ", ".join(repr(r.label) for r in rows)
    return f"endpoint {ref.text!r} is ambiguous ({labels}); add the method"


def evaluate_check(results: RunResults, check: Check) -> CheckResult:
    row = _find_row(results, check.endpoint)
    if isinstance(row, str):
        return CheckResult(check, False, None, row)
    actual = check.read(row)
    if actual is None:
        if check.percentile is not None and check.percentile not in row.percentiles:
            reported = ", ".join(f"p{p:g}" for p in row.percentiles)
            why = f"Locust did not report {check.metric} (reported: {reported})"
        else:
            why = f"no value: {row.label} had no requests"
        return CheckResult(check, False, None, why)
    passed = OPERATORS[check.op](actual, check.threshold)
    verdict = "ok" if passed else "FAILED"
    message = (
        f"{check.metric} on {row.label} was {format_value(actual, check.unit)}; "
        f"required {check.op} {format_value(check.threshold, check.unit)}: {verdict}"
    )
    return CheckResult(check, passed, actual, message)


def evaluate_checks(results: RunResults, checks: Sequence[str | Check]) -> list[CheckResult]:
    """Evaluate each check (an expression or a parsed :class:`Check`) on ``results``.

    Raises :class:`CheckSyntaxError` for an expression that does not parse.
    """
    parsed = [c if isinstance(c, Check) else parse_check(c) for c in checks]
    return [evaluate_check(results, c) for c in parsed]
