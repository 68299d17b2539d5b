"""`locust-fleet report RUN_DIR` and `locust-fleet compare RUN_A RUN_B`."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..checks import CheckSyntaxError
from ..compare import compare_runs, comparison_table
from ..outcome import ExitCode
from ..report.analyse import analyse
from ..report.console import print_summary
from ..results import ResultsError
from .consoles import make_console, print_error
from .run_cmd import ALLOW_NO_REQUESTS_HELP


def register(verbs: argparse._SubParsersAction) -> None:
    report = verbs.add_parser("report", help="(re)write and print the reports of a run folder")
    report.add_argument("run_dir", type=Path)
    report.add_argument("--check", action="append", default=[], metavar="EXPR")
    report.add_argument("--junit", type=Path)
    report.add_argument("--allow-saturated", action="store_true")
    report.add_argument("--allow-no-requests", action="store_true", help=ALLOW_NO_REQUESTS_HELP)
    report.set_defaults(handler=_report)
    compare = verbs.add_parser("compare", help="per-endpoint deltas between two runs")
    compare.add_argument("run_a", type=Path, help="the baseline run folder")
    compare.add_argument("run_b", type=Path, help="the run to judge")
    compare.add_argument(
        "--threshold",
        type=_threshold,
        default=0.10,
        help="relative change counted as a regression (default 0.10)",
    )
    compare.set_defaults(handler=_compare)


def _threshold(text: str) -> float:
    """--threshold: a finite fraction, 0 or more (argparse turns the refusal into exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a fraction 0 or more; give e.g. 0.10 for 10%"
        )
    return value


def _report(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    try:
        a = analyse(
            args.run_dir,
            args.check,
            allow_saturated=args.allow_saturated,
            allow_no_requests=args.allow_no_requests,
            junit_path=args.junit,
        )
    except (ResultsError, CheckSyntaxError) as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    print_summary(make_console(), a.results, a.check_results, a.verdict, a.outcome)
    return int(a.outcome.code)


def _compare(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    try:
        comparison = compare_runs(args.run_a, args.run_b, threshold=args.threshold)
    except ResultsError as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    make_console().print(comparison_table(comparison))
    if comparison.has_regression:
        console.print(f"regression beyond {args.threshold:.0%} in {args.run_b}")
        return int(ExitCode.CHECK_FAILED)
    return 0
