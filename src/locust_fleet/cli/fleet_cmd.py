"""`locust-fleet provision | status | stop | teardown -i INV`: the other playbooks."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import fleet
from ..outcome import ExitCode
from ..runner.progress import Progress
from .consoles import make_console, print_error

VERBS = {
    "provision": ("site", "install, tune and start the fleet (playbooks/site.yml)"),
    "status": ("status", "units per host, workers connected, the current run"),
    "stop": ("stop", "stop a running test cleanly and fetch its partial results"),
    "teardown": ("teardown", "stop and disable the units (optionally remove everything)"),
}


def register(verbs: argparse._SubParsersAction) -> None:
    for verb, (playbook, text) in VERBS.items():
        parser = verbs.add_parser(verb, help=text, description=text)
        parser.add_argument("-i", "--inventory", required=True, type=Path)
        parser.add_argument(
            "-e",
            "--extra-var",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="an Ansible variable, e.g. locust_testplan_src=locustfiles/website",
        )
        if verb == "provision":
            parser.add_argument(
                "--plan", type=Path, help="plan folder to ship (locust_testplan_src)"
            )
        if verb == "teardown":
            parser.add_argument(
                "--purge",
                action="store_true",
                help="also remove Locust, the plans, the tuning and the user",
            )
        parser.set_defaults(handler=_handle, playbook=playbook)


def _handle(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    extravars: dict[str, object] = {}
    for item in args.extra_var:
        name, sep, value = item.partition("=")
        if not sep:
            print_error(console, f"-e {item!r} must be NAME=VALUE")
            return int(ExitCode.ERROR)
        extravars[name] = value
    if getattr(args, "plan", None):
        extravars["locust_testplan_src"] = str(args.plan.resolve())
    if getattr(args, "purge", False):
        extravars["locust_run_purge"] = True
    progress = Progress(console, label=args.verb)
    try:
        outcome = fleet.playbook(args.playbook, args.inventory, extravars, progress)
    except fleet.UsageError as err:
        progress.close()
        print_error(console, err)
        return int(ExitCode.ERROR)
    progress.close()
    for message in outcome.failure_messages():
        print_error(console, message)
    if args.verb == "stop":
        _say_what_stopped(outcome, console)
    if args.verb == "status":
        statuses = [
            f["locust_run_host_status"]
            for f in outcome.facts.values()
            if f.get("locust_run_host_status")
        ]
        for status in sorted(statuses, key=lambda s: s["host"]):
            make_console().print(status_line(status), highlight=False, markup=False)
    changed = sum((outcome.stats.get("changed") or {}).values())
    console.print(f"{args.verb}: {'ok' if outcome.ok else 'failed'} ({changed} changed)")
    return 0 if outcome.ok else int(ExitCode.ERROR)


def status_line(status: dict) -> str:
    """One host of `locust-fleet status`, from the fact locust_run_host_status."""
    active, units = status.get("active") or [], status.get("units") or []
    names = ", ".join(active) or "none"
    line = f"{status['host']}: {len(active)}/{len(units)} Locust units active ({names})"
    if status.get("run"):
        p = status.get("progress") or {}
        which = "run" if status.get("phase") == "running" else "last run"
        line += (
            f"; {which} {status['run']}: {status.get('phase')}, workers {p.get('workers')}, "
            f"users {p.get('users')}, {p.get('rps')} req/s, {p.get('requests')} requests, "
            f"{p.get('failures')} failed"
        )
    return line


def _say_what_stopped(outcome, console) -> None:
    """From the modules' results: the run stopped and where it went, or that none was running."""
    reads = outcome.results.get("locust_run_state") or []
    records = outcome.results.get("locust_run_record") or []
    if records:
        record = records[-1]["record"]
        console.print(
            f"stop: run {record['run_id']} was stopped; its results: {records[-1]['dir']}"
        )
    elif reads and reads[0].get("effective_phase") != "running":
        last = reads[0].get("run_id")
        console.print(
            "stop: Nothing is running"
            + (f" (the last run, {last}, has ended)" if last else "")
            + "; nothing was changed"
        )
