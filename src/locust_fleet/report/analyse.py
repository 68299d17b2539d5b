"""One call from a run folder to a decision and its reports (what ``run`` and
``report`` both do once the results are home).

    analysis = analyse(run_dir, ["p95<500"], allow_saturated=False, allow_no_requests=False)
    analysis.outcome.code          # the exit code (see locust_fleet.outcome)
    analysis.paths.summary_md      # the reports written into run_dir

Raises :class:`~locust_fleet.results.ResultsError` when the folder cannot be
read and :class:`~locust_fleet.checks.CheckSyntaxError` for a bad check: both
are ``ValueError`` and both mean exit 2 (parse the checks with
``parse_checks`` before starting a run, so a typo costs no load test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from locust_fleet.checks import Check, CheckResult, evaluate_checks
from locust_fleet.outcome import Outcome, decide
from locust_fleet.report.writer import ReportPaths, write_reports
from locust_fleet.results.loader import load_run
from locust_fleet.results.model import RunResults
from locust_fleet.saturation import (
    DEFAULT_CPU_THRESHOLD,
    DEFAULT_MAX_FRACTION,
    SaturationVerdict,
    verdict_for,
)


@dataclass(frozen=True)
class Analysis:
    results: RunResults
    check_results: tuple[CheckResult, ...]
    verdict: SaturationVerdict
    outcome: Outcome
    paths: ReportPaths


def analyse(
    run_dir: str | Path,
    checks: Sequence[str | Check] = (),
    *,
    allow_saturated: bool = False,
    allow_no_requests: bool = False,
    errors: Sequence[str] = (),
    junit_path: str | Path | None = None,
    cpu_threshold: float = DEFAULT_CPU_THRESHOLD,
    max_fraction: float = DEFAULT_MAX_FRACTION,
) -> Analysis:
    """Load ``run_dir``, evaluate ``checks`` and saturation, decide, write the reports.

    ``errors`` are orchestration problems the caller saw (e.g. a worker host that
    never came up); they are reported and make the exit code 2.
    """
    results = load_run(run_dir)
    check_results = tuple(evaluate_checks(results, checks))
    verdict = verdict_for(results, cpu_threshold=cpu_threshold, max_fraction=max_fraction)
    outcome = decide(
        results,
        check_results,
        verdict,
        allow_saturated=allow_saturated,
        allow_no_requests=allow_no_requests,
        errors=errors,
    )
    paths = write_reports(
        run_dir,
        results,
        check_results,
        verdict,
        outcome=outcome,
        allow_saturated=allow_saturated,
        allow_no_requests=allow_no_requests,
        junit_path=junit_path,
    )
    return Analysis(results, check_results, verdict, outcome, paths)
