"""The exit-code policy of ``locust-fleet run`` / ``report``, as one function.

=====  =======================================================================
code   meaning
=====  =======================================================================
0      pass
1      the test had failed requests or exceptions in the plan (as Locust)
2      usage or orchestration error (bad arguments, unreachable hosts, the
       master exited abnormally, results missing or malformed)
3      a check failed, including the implicit ``requests>0``: a run that made
       no request at all (not raised with ``allow_no_requests=True``, nor when
       the user gave a check on the aggregated ``requests``)
4      results untrustworthy: a load generator (worker or master) saturated
       its CPU; not raised with ``allow_saturated=True``
=====  =======================================================================

Precedence when several apply: **2 > 4 > 3 > 1 > 0**.

- 2 first: nothing after it can be trusted or even computed.
- 4 before 3: when the generators were the bottleneck, the latencies and rates
  describe the fleet, not the service; a failed (or passed) check on them is
  misleading, and the fix (more workers, lighter plan) comes first.
- 3 before 1: a failed check is the user's own, explicit criterion.
- 1 is Locust's default rule, with one refinement: when the user gave a check on
  the aggregated failures (``fail_ratio``, ``failures`` or ``fail_rps`` without an
  endpoint), that check *is* their tolerance for failed requests, so failed
  requests alone no longer give 1 (``fail_ratio<0.01`` passing with 0.5 %
  failures exits 0). Exceptions in the plan still give 1: no check covers them.
- A run without a single request is judged by an implicit check ``requests>0``
  (exit 3, as any failed check: nothing was measured, so nothing passed). A
  check of the user's on the aggregated ``requests`` (``requests>=0``,
  ``requests<10``...) replaces it, as their own statement of how many requests
  a run makes; ``allow_no_requests`` (``--allow-no-requests``) accepts a plan
  that makes none and says so.

All reasons that applied are kept in :class:`Outcome` for the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from locust_fleet.checks import CheckResult
from locust_fleet.results.model import RunResults
from locust_fleet.saturation import SaturationVerdict


class ExitCode(IntEnum):
    OK = 0
    FAILED_REQUESTS = 1
    ERROR = 2
    CHECK_FAILED = 3
    SATURATED = 4


PRECEDENCE: tuple[ExitCode, ...] = (
    ExitCode.ERROR,
    ExitCode.SATURATED,
    ExitCode.CHECK_FAILED,
    ExitCode.FAILED_REQUESTS,
    ExitCode.OK,
)
FAILURE_METRICS = frozenset({"fail_ratio", "failures", "fail_rps"})
REQUEST_METRICS = frozenset({"requests"})
IMPLICIT_REQUESTS_CHECK = "requests>0"
NO_REQUESTS = (
    f"no requests were made: the implicit check {IMPLICIT_REQUESTS_CHECK} failed "
    "(a plan that sends none: pass --allow-no-requests, or a check on requests such as "
    "'requests>=0')"
)
NO_REQUESTS_ALLOWED = "no requests were made (allowed by --allow-no-requests)"
_LOCUST_NORMAL_EXITS = frozenset({0, 1})


@dataclass(frozen=True)
class Outcome:
    code: ExitCode
    reasons: tuple[tuple[ExitCode, str], ...]

    @property
    def passed(self) -> bool:
        return self.code == ExitCode.OK

    def explain(self) -> str:
        """``exit 3: check failed: p95 ... ; also: ...`` for the last line of output."""
        if not self.reasons:
            return "exit 0: passed"
        return f"exit {int(self.code)}: " + "; ".join(text.rstrip(".") for _, text in self.reasons)


def _aggregated_check_on(check_results: Sequence[CheckResult], metrics: frozenset[str]) -> bool:
    return any(r.check.endpoint is None and r.check.metric in metrics for r in check_results)


def failures_covered(check_results: Sequence[CheckResult]) -> bool:
    """True when a check on the aggregated row states a tolerance for failed requests."""
    return _aggregated_check_on(check_results, FAILURE_METRICS)


def requests_covered(check_results: Sequence[CheckResult]) -> bool:
    """True when a check on the aggregated ``requests`` replaces the implicit ``requests>0``."""
    return _aggregated_check_on(check_results, REQUEST_METRICS)


def no_requests(results: RunResults) -> bool:
    """True when the run made no request at all (the Aggregated row counts none)."""
    return results.aggregated.request_count == 0


class RequestsCheck(Enum):
    """Where the implicit ``requests>0`` stands for one run."""

    PASSED = "passed"  # the run made requests
    FAILED = "failed"  # none, and nothing accepts that: exit 3
    ALLOWED = "allowed"  # none, accepted by allow_no_requests
    REPLACED = "replaced"  # a check on the aggregated requests judges instead


def requests_check(
    results: RunResults,
    check_results: Sequence[CheckResult] = (),
    *,
    allow_no_requests: bool = False,
) -> RequestsCheck:
    """The implicit ``requests>0`` check, as decide, summary.md and junit.xml all see it."""
    if requests_covered(check_results):
        return RequestsCheck.REPLACED
    if not no_requests(results):
        return RequestsCheck.PASSED
    return RequestsCheck.ALLOWED if allow_no_requests else RequestsCheck.FAILED


def decide(
    results: RunResults | None,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    *,
    allow_saturated: bool = False,
    allow_no_requests: bool = False,
    errors: Sequence[str] = (),
) -> Outcome:
    """The exit code and every reason for it.

    ``results`` is ``None`` when the run produced none (then the code is 2);
    ``errors`` are orchestration errors found by the caller (each gives 2), as is
    ``run.json``'s ``error``. A master that exited with a code other than
    Locust's 0/1 is also an error.
    """
    reasons: list[tuple[ExitCode, str]] = [(ExitCode.ERROR, e) for e in errors]
    if results is None:
        if not errors:
            reasons.append((ExitCode.ERROR, "the run produced no results"))
    else:
        if results.metadata.error and results.metadata.error not in errors:
            reasons.append((ExitCode.ERROR, results.metadata.error))
        reasons.extend((ExitCode.ERROR, text) for text in _workers_given_up(results.metadata))
        code = results.metadata.master_exit_code
        if code is not None and code not in _LOCUST_NORMAL_EXITS:
            reasons.append((ExitCode.ERROR, f"the Locust master exited with code {code}"))
        if verdict is not None and verdict.saturated:
            if allow_saturated:
                reasons.append((ExitCode.OK, "generator saturated (allowed by --allow-saturated)"))
            else:
                reasons.append((ExitCode.SATURATED, verdict.summary()))
        implicit = requests_check(results, check_results, allow_no_requests=allow_no_requests)
        if implicit is RequestsCheck.FAILED:
            reasons.append((ExitCode.CHECK_FAILED, NO_REQUESTS))
        elif implicit is RequestsCheck.ALLOWED:
            reasons.append((ExitCode.OK, NO_REQUESTS_ALLOWED))
        for result in check_results:
            if not result.passed:
                reasons.append((ExitCode.CHECK_FAILED, f"check failed: {result.message}"))
        agg = results.aggregated
        if agg.failure_count and not failures_covered(check_results):
            reasons.append(
                (
                    ExitCode.FAILED_REQUESTS,
                    f"{agg.failure_count} of {agg.request_count} requests failed",
                )
            )
        if results.exception_count:
            reasons.append(
                (
                    ExitCode.FAILED_REQUESTS,
                    f"{results.exception_count} exception(s) in the test plan",
                )
            )
    codes = {code for code, _ in reasons}
    final = next((c for c in PRECEDENCE if c in codes), ExitCode.OK)
    ordered = sorted(reasons, key=lambda r: PRECEDENCE.index(r[0]))
    return Outcome(code=final, reasons=tuple(ordered))


def _workers_given_up(metadata) -> list[str]:
    """One reason per worker unit systemd gave up on (it could not start: a plan that fails
    to import on its host, ...), with the journal that says why."""
    return [
        f"{e.host}: {e.message}; its journal is journals/{e.host}.log"
        for e in metadata.events
        if e.kind == "worker_gave_up"
    ]


def exit_code(
    results: RunResults | None,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    **options: Any,
) -> int:
    """Just the number: :func:`decide`'s code, with the same keyword options."""
    return int(decide(results, check_results, verdict, **options).code)
