"""`locust-fleet run`: one distributed test, live progress, a verdict as the exit code."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import fleet
from ..checks import usage as checks_usage
from ..outcome import ExitCode
from ..report.console import print_summary
from ..runner.progress import Progress
from .consoles import make_console, print_error

ALLOW_NO_REQUESTS_HELP = (
    "do not fail (exit 3, the implicit check requests>0) when the run made no request: "
    "a plan that only exchanges messages or prints"
)


def register(verbs: argparse._SubParsersAction) -> None:
    run = verbs.add_parser(
        "run",
        help="run a distributed test and bring the results home",
        description="Run one distributed Locust test on a provisioned fleet, show its progress, "
        "fetch the results into RESULTS/<run id>/ and decide pass or fail.",
        epilog="checks: " + checks_usage(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("-i", "--inventory", required=True, type=Path)
    run.add_argument("--plan", required=True, type=Path, help="plan folder or locustfile")
    run.add_argument("-u", "--users", required=True, help="users in total")
    run.add_argument("-r", "--spawn-rate", required=True, help="users started per second")
    run.add_argument("-t", "--run-time", required=True, help="e.g. 30s, 5m, 1h30m")
    run.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="EXPR",
        help="pass/fail check, e.g. 'p95<500' or 'GET /about:p99<800' (repeatable)",
    )
    run.add_argument("--results", type=Path, default=Path("results"), help="default ./results")
    run.add_argument("--junit", type=Path, help="also write the JUnit XML here")
    run.add_argument("--tag", action="append", default=[], help="only tasks with this tag")
    run.add_argument("--exclude-tag", action="append", default=[], help="skip this tag")
    run.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a custom argument the plan defines (repeatable)",
    )
    run.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this variable of your environment (an API token, ...) to every "
        "Locust process, never logged (repeatable)",
    )
    run.add_argument("--run-id", help="default: UTC time plus a random suffix")
    run.add_argument(
        "--max-clock-offset",
        metavar="MS",
        help="refuse the run when a host's clock is further than this off the controller's "
        "(milliseconds; default 500, the playbooks' locust_run_max_clock_offset)",
    )
    run.add_argument(
        "--min-free-mb",
        metavar="MIB",
        help="refuse the run when less is free where the master writes the run's results "
        "(MiB; default 100, the playbooks' locust_run_min_free_mb)",
    )
    run.add_argument(
        "--allow-saturated",
        action="store_true",
        help="do not fail (exit 4) when a load generator saturated",
    )
    run.add_argument(
        "--allow-no-requests",
        action="store_true",
        help=ALLOW_NO_REQUESTS_HELP,
    )
    run.add_argument(
        "--detach",
        action="store_true",
        help="return once the master runs the test; `locust-fleet attach` follows it and "
        "brings it home (the checks, --allow-saturated and --allow-no-requests are kept "
        "with the run)",
    )
    run.set_defaults(handler=_handle)


def register_attach(verbs: argparse._SubParsersAction) -> None:
    attach = verbs.add_parser(
        "attach",
        help="follow a running test (or fetch a finished one) and judge it as run does",
        description="Follow a test on the fleet with live progress; when it ends (at once when it "
        "has), fetch its results into RESULTS/<run id>/ and decide, with the same exit codes as "
        "run. Without RUN_ID: the fleet's current or latest run.",
        epilog="checks: " + checks_usage(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    attach.add_argument("-i", "--inventory", required=True, type=Path)
    attach.add_argument("run_id", nargs="?", metavar="RUN_ID", help="default: current or latest")
    attach.add_argument("--results", type=Path, default=Path("results"), help="default ./results")
    attach.add_argument("--junit", type=Path, help="also write the JUnit XML here")
    attach.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="EXPR",
        help="a check on top of those the run was started with (repeatable)",
    )
    attach.add_argument(
        "--allow-saturated",
        action="store_true",
        help="do not fail (exit 4) when a load generator saturated",
    )
    attach.add_argument(
        "--allow-no-requests",
        action="store_true",
        help=ALLOW_NO_REQUESTS_HELP,
    )
    attach.set_defaults(handler=_handle_attach)


def _handle(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    extra = {}
    for item in args.arg:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print_error(console, f"--arg {item!r} must be NAME=VALUE")
            return int(ExitCode.ERROR)
        extra[name] = value
    extravars = {}
    for flag, given, variable, unit, example in (
        ("--max-clock-offset", args.max_clock_offset, "locust_run_max_clock_offset", "ms", "250"),
        ("--min-free-mb", args.min_free_mb, "locust_run_min_free_mb", "MiB", "500"),
    ):
        if given is None:
            continue
        try:
            limit = float(given)
        except ValueError:
            limit = -1.0
        if not limit >= 0:  # also refuses nan
            print_error(
                console,
                f"{flag} {given!r} must be a number of {unit}, 0 or more, e.g. {flag} {example}",
            )
            return int(ExitCode.ERROR)
        extravars[variable] = limit
    progress = Progress(console, label="run")
    try:
        result = fleet.run(
            args.inventory,
            args.plan,
            args.users,
            args.spawn_rate,
            args.run_time,
            checks=args.check,
            results_dir=args.results,
            tags=args.tag,
            exclude_tags=args.exclude_tag,
            extra_args=extra,
            run_id=args.run_id,
            secret_env=args.secret_env,
            allow_saturated=args.allow_saturated,
            allow_no_requests=args.allow_no_requests,
            junit=args.junit,
            detach=args.detach,
            event_handler=progress,
            extravars=extravars or None,
        )
    except fleet.UsageError as err:
        progress.close()
        print_error(console, err)
        return int(ExitCode.ERROR)
    progress.close()
    if result.detached:
        console.print(
            f"run {result.run_id} is running on the fleet; follow it and bring it home with:\n"
            f"  locust-fleet attach -i {args.inventory} {result.run_id}"
            + (f" --results {args.results}" if args.results != Path("results") else "")
        )
        return result.exit_code
    return report(result, console)


def _handle_attach(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    progress = Progress(console, label="attach")
    try:
        result = fleet.attach(
            args.inventory,
            args.run_id,
            results_dir=args.results,
            checks=args.check,
            allow_saturated=args.allow_saturated,
            allow_no_requests=args.allow_no_requests,
            junit=args.junit,
            event_handler=progress,
        )
    except fleet.UsageError as err:
        progress.close()
        print_error(console, err)
        return int(ExitCode.ERROR)
    progress.close()
    return report(result, console)


def report(result: fleet.RunResult, console) -> int:
    """What run and attach print at the end; returns the exit code."""
    if result.analysis is not None:
        a = result.analysis
        print_summary(make_console(), a.results, a.check_results, a.verdict, a.outcome)
        console.print(f"results: {result.run_dir}  (summary.md, junit.xml, charts.png)")
    for message in result.messages if result.analysis is None else []:
        print_error(console, message)
    if result.analysis is None:
        what = f"results incomplete in {result.run_dir}" if result.run_dir else "nothing was run"
        console.print(f"exit {result.exit_code}: {what}")
        if result.record_dir is not None and result.record_dir.exists():
            console.print(f"the playbook's record (stdout, job_events/): {result.record_dir}")
    return result.exit_code
