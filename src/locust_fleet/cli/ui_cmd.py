"""`locust-fleet ui -i INV [--plan DIR]` and `locust-fleet fetch -i INV`: interactive mode.

`ui` starts the master with Locust's web UI (playbooks/ui.yml) when given a
plan, then opens an SSH local forward to the UI on the master's loopback and
keeps it until Ctrl-C or SIGTERM. `fetch` stops the UI master and brings the
run home into RESULTS/<run id>/ (playbooks/ui_stop.yml), then writes the reports.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from types import FrameType

from .. import fleet
from ..outcome import ExitCode
from ..report.console import print_summary
from ..runner.progress import Progress
from ..ui import Forward, ForwardError, free_local_port, master_ssh_target
from .consoles import make_console, print_error
from .run_cmd import ALLOW_NO_REQUESTS_HELP


def register(verbs: argparse._SubParsersAction) -> None:
    ui = verbs.add_parser(
        "ui",
        help="start the master with the web UI and open an SSH forward to it",
        description="With --plan: deploy the plan, restart the workers and start the master "
        "with Locust's web UI on its loopback (playbooks/ui.yml). Then open an SSH local "
        "forward to the UI and keep it until Ctrl-C. The test keeps running on the fleet "
        "after the forward closes: `locust-fleet fetch` stops it and brings the results home.",
    )
    ui.add_argument("-i", "--inventory", required=True, type=Path)
    ui.add_argument("--plan", type=Path, help="start the UI master with this plan first")
    ui.add_argument("-u", "--users", help="users pre-filled in the UI's form")
    ui.add_argument("-r", "--spawn-rate", help="spawn rate pre-filled in the UI's form")
    ui.add_argument(
        "--local-port", type=int, default=0, help="local port of the forward (default: a free one)"
    )
    ui.add_argument(
        "--ui-port", type=int, default=8089, help="the UI's port on the master (default 8089)"
    )
    ui.add_argument(
        "--no-forward", action="store_true", help="only start the UI master, open no forward"
    )
    _extra_var_argument(ui)
    ui.set_defaults(handler=_ui)

    fetch = verbs.add_parser(
        "fetch",
        help="stop the UI master and bring its run home",
        description="Stop the web UI master (Locust writes its reports on SIGTERM) and fetch "
        "the run into RESULTS/<run id>/, the same layout as a headless run "
        "(playbooks/ui_stop.yml).",
    )
    fetch.add_argument("-i", "--inventory", required=True, type=Path)
    fetch.add_argument("--results", type=Path, default=Path("results"), help="default ./results")
    fetch.add_argument("--check", action="append", default=[], metavar="EXPR")
    fetch.add_argument("--allow-saturated", action="store_true")
    fetch.add_argument("--allow-no-requests", action="store_true", help=ALLOW_NO_REQUESTS_HELP)
    _extra_var_argument(fetch)
    fetch.set_defaults(handler=_fetch)


def _extra_var_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-e",
        "--extra-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an Ansible variable, NAME=VALUE or a JSON object, e.g. locust_ui_listen=0.0.0.0 "
        "(see playbooks/ui.yml)",
    )


def _extra_vars(items: list[str]) -> dict[str, object]:
    extravars: dict[str, object] = {}
    for item in items:
        if item.lstrip().startswith("{"):  # JSON, as ansible-playbook -e takes it (lists, dicts)
            try:
                extravars.update(json.loads(item))
            except (ValueError, TypeError) as err:
                raise fleet.UsageError(f"-e {item!r} is not a JSON object: {err}") from err
            continue
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise fleet.UsageError(f"-e {item!r} must be NAME=VALUE")
        extravars[name] = value
    return extravars


class _Stop(Exception):
    """SIGTERM while the forward is open."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def _ui(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    try:
        extravars = _extra_vars(args.extra_var)
    except fleet.UsageError as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    port_text = str(extravars.get("locust_ui_port", args.ui_port))
    if not (port_text.isdigit() and 0 < int(port_text) < 65536):
        print_error(
            console,
            f"locust_ui_port {port_text!r} must be a TCP port (1-65535), "
            "e.g. -e locust_ui_port=8089",
        )
        return int(ExitCode.ERROR)
    ui_port = int(port_text)
    if args.plan:
        extravars["locust_plan"] = str(args.plan.resolve())
        extravars["locust_ui_port"] = ui_port
        if args.users:
            extravars["locust_users"] = args.users
        if args.spawn_rate:
            extravars["locust_spawn_rate"] = args.spawn_rate
        progress = Progress(console, label="ui")
        try:
            outcome = fleet.playbook("ui", args.inventory, extravars, progress)
        except fleet.UsageError as err:
            progress.close()
            print_error(console, err)
            return int(ExitCode.ERROR)
        progress.close()
        if not outcome.ok:
            for message in outcome.failure_messages():
                print_error(console, message)
            console.print("ui: the UI master was not started")
            return int(ExitCode.ERROR)
        run_id = (outcome.facts.get("localhost", {}).get("locust_run_info") or {}).get("id")
        console.print(f"ui: run {run_id} is waiting for you in the web UI")
    if args.no_forward:
        return 0
    try:
        target = master_ssh_target(args.inventory)
        forward = Forward(target, args.local_port or free_local_port(), ui_port)
    except ForwardError as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        forward.open()
        make_console().print(f"Locust web UI: {forward.url}")
        console.print(
            f"(an SSH forward to {target.name}, ssh PID {forward.pid}; Ctrl-C closes it. "
            f"`locust-fleet fetch -i {args.inventory}` stops the test and fetches the results.)"
        )
        code = forward.wait()
        print_error(console, f"the SSH forward ended (ssh exited {code})")
        return int(ExitCode.ERROR)
    except ForwardError as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    except (KeyboardInterrupt, _Stop):
        console.print("ui: forward closed; the UI master keeps running until `locust-fleet fetch`")
        return 0
    finally:
        forward.close()
        signal.signal(signal.SIGTERM, previous)


def _fetch(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    try:
        extravars = _extra_vars(args.extra_var)
    except fleet.UsageError as err:
        print_error(console, err)
        return int(ExitCode.ERROR)
    progress = Progress(console, label="fetch")
    try:
        result = fleet.attach(
            args.inventory,
            results_dir=args.results,
            checks=args.check,
            allow_saturated=args.allow_saturated,
            allow_no_requests=args.allow_no_requests,
            event_handler=progress,
            playbook_name="ui_stop",
            extravars=extravars,
        )
    except fleet.UsageError as err:
        progress.close()
        print_error(console, err)
        return int(ExitCode.ERROR)
    progress.close()
    if result.analysis is None:
        for message in result.messages:
            print_error(console, message)
        console.print("fetch: nothing was fetched")
        return int(ExitCode.ERROR)
    a = result.analysis
    print_summary(make_console(), a.results, a.check_results, a.verdict, a.outcome)
    console.print(f"results: {result.run_dir}  (summary.md, junit.xml, charts.png)")
    return int(a.outcome.code)
