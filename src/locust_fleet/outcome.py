"""The exit-code policy of ``locust-fleet run`` / ``report``, as one function.

=====  =======================================================================
code   meaning
=====  =======================================================================
0      pass
1      the test had failed requests or exceptions in the plan (as Locust)
2      usage or orchestration error (bad arguments, unreachable hosts, the
       master exited abnormally, results missing or malformed)
3      a check failed
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

All reasons that applied are kept in :class:`Outcome` for the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

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


def failures_covered(check_results: Sequence[CheckResult]) -> bool:
    """True when a check on the aggregated row states a tolerance for failed requests."""
    return any(
        r.check.endpoint is None and r.check.metric in FAILURE_METRICS for r in check_results
    )


def decide(
    results: RunResults | None,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    *,
    allow_saturated: bool = False,
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
        if results.metadata.error:
            reasons.append((ExitCode.ERROR, results.metadata.error))
        code = results.metadata.master_exit_code
        if code is not None and code not in _LOCUST_NORMAL_EXITS:
            reasons.append((ExitCode.ERROR, f"the Locust master exited with code {code}"))
        if verdict is not None and verdict.saturated:
            if allow_saturated:
                reasons.append((ExitCode.OK, "generator saturated (allowed by --allow-saturated)"))
            else:
                reasons.append((ExitCode.SATURATED, verdict.summary()))
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


def exit_code(
    results: RunResults | None,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    *,
    allow_saturated: bool = False,
    errors: Sequence[str] = (),
) -> int:
    """Just the number (see :func:`decide`)."""
    return int(
        decide(results, check_results, verdict, allow_saturated=allow_saturated, errors=errors).code
    )
