"""`locust-fleet size`: what N users of a plan need, from a short calibration run of it."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import fleet
from ..outcome import ExitCode
from ..runner.progress import Progress
from ..sizing import CalibrationError, estimate
from .consoles import make_console, print_error
from .run_cmd import report


def register(verbs: argparse._SubParsersAction) -> None:
    size = verbs.add_parser(
        "size",
        help="measure a plan's costs with a short run and say what N users need",
        description="Run the plan briefly on the fleet with a few users, measure its requests "
        "per user, worker CPU per request, memory and open files per user, and print what "
        "USERS users would need: worker processes, hosts, memory.",
    )
    size.add_argument("-i", "--inventory", required=True, type=Path)
    size.add_argument("--plan", required=True, type=Path, help="plan folder or locustfile")
    size.add_argument("-u", "--users", required=True, help="the users to size for")
    size.add_argument(
        "--calibrate-users", default="100", help="users of the calibration run (default 100)"
    )
    size.add_argument("--calibrate-time", default="20s", help="its run time (default 20s; e.g. 1m)")
    size.add_argument("--results", type=Path, default=Path("results"), help="default ./results")
    size.set_defaults(handler=_handle)


def _positive(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value > 0 else None


def _handle(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    users = _positive(args.users)
    calibrate = _positive(args.calibrate_users)
    if users is None or calibrate is None:
        bad = "-u" if users is None else "--calibrate-users"
        value = args.users if users is None else args.calibrate_users
        print_error(console, f"{bad} {value!r} must be a whole number above 0")
        return int(ExitCode.ERROR)
    progress = Progress(console, label="size")
    try:
        result = fleet.run(
            args.inventory,
            args.plan,
            calibrate,
            calibrate,  # every user within the first second: the rest of the run is the hold
            args.calibrate_time,
            results_dir=args.results,
            allow_saturated=True,
            event_handler=progress,
        )
    except fleet.UsageError as err:
        progress.close()
        print_error(console, err)
        return int(ExitCode.ERROR)
    progress.close()
    if result.analysis is None:  # what run prints for a run that did not complete
        return report(result, console) or int(ExitCode.ERROR)
    try:
        found = estimate(result.analysis.results, users)
    except CalibrationError as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    out = make_console()
    for line in found.lines():
        out.print(line, highlight=False)
    console.print(f"calibration run: {result.run_dir}")
    return 0
