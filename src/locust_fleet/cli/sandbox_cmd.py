"""`locust-fleet sandbox up|status|down`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from rich.table import Table

from ..sandbox import DEFAULT_NAME, Sandbox, SandboxError
from ..sandbox.image import DEFAULT_RELEASE, MONITOR_PACKAGES, RELEASES, ensure_image
from ..sandbox.preflight import check_host
from .consoles import make_console, print_error

EXIT_USAGE = 2


def register(verbs: argparse._SubParsersAction) -> None:
    sandbox = verbs.add_parser(
        "sandbox",
        help="real systemd hosts on this machine to try and test the fleet",
        description="Boot, inspect and remove the sandbox: systemd-nspawn hosts on a private "
        "bridge with no route out (needs root).",
    )
    actions = sandbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="build the image if needed and boot the hosts")
    up.add_argument("--workers", type=int, default=2, help="worker hosts (default 2)")
    up.add_argument("--subnet", help="private /24 for the bridge (default 10.213.7.0/24)")
    up.add_argument(
        "--monitoring",
        action="store_true",
        help="also boot <name>-monitor: Prometheus (Debian's package, port 9090) scraping the "
        "master's live metrics, in inventory group monitoring, with locust_metrics_enabled set "
        "(an up without it removes that host)",
    )
    image = actions.add_parser(
        "image", help="build (or find cached) the Debian image the hosts boot"
    )
    image.add_argument("--monitoring", action="store_true", help="also the monitoring host's image")
    for action in (up, image):
        action.add_argument(
            "--release",
            choices=RELEASES,
            default=None,
            help=f"the Debian release the hosts run (default: the sandbox's own, else "
            f"{DEFAULT_RELEASE}); a sandbox keeps its release until `sandbox down`",
        )
    actions.add_parser("status", help="show the hosts and whether they answer")
    actions.add_parser("down", help="stop every host and remove mounts, links and state")
    for action in actions.choices.values():
        action.add_argument("--name", default=DEFAULT_NAME, help="sandbox name (default lf)")
        action.add_argument(
            "--inventory",
            type=Path,
            help="where to write the inventory (default inventories/sandbox/"
            "hosts.yml for the default sandbox)",
        )
        action.add_argument("--json", action="store_true", help="machine-readable output")
        action.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    console = make_console(stderr=True)
    log = (lambda _msg: None) if args.json else console.print
    try:
        sandbox = Sandbox(args.name, getattr(args, "subnet", None), args.inventory, log=log)
        if args.action == "image":
            check_host()
            log(f"sandbox image: {ensure_image(log=log, release=args.release or DEFAULT_RELEASE)}")
            if args.monitoring:
                monitor = ensure_image(
                    log=log,
                    extra_packages=MONITOR_PACKAGES,
                    release=args.release or DEFAULT_RELEASE,
                )
                log(f"monitoring image: {monitor}")
            return 0
        if args.action == "up":
            sandbox.up(args.workers, monitoring=args.monitoring, release=args.release)
        elif args.action == "down":
            sandbox.down()
            return 0
        return _print_status(sandbox, args.json)
    except SandboxError as err:
        print_error(console, err)
        return EXIT_USAGE


def _print_status(sandbox: Sandbox, as_json: bool) -> int:
    hosts = sandbox.status()
    if as_json:
        print(
            json.dumps(
                {
                    "name": sandbox.name,
                    "inventory": str(sandbox.inventory),
                    "key": str(sandbox.key),
                    "hosts": [asdict(h) for h in hosts],
                },
                indent=2,
            )
        )
    else:
        table = Table(title=f"sandbox {sandbox.name}")
        for column in ("host", "role", "address", "running", "ssh"):
            table.add_column(column)
        for h in hosts:
            table.add_row(h.name, h.role, h.ip, _yes(h.running), _yes(h.ssh))
        make_console().print(table if hosts else f"sandbox {sandbox.name} is not up")
    return 0 if hosts and all(h.ssh for h in hosts) else 1


def _yes(flag: bool) -> str:
    return "[green]yes[/]" if flag else "[red]no[/]"
