"""The `locust-fleet` command: a thin layer over the library.

Exit codes: 0 pass; 1 the test had failed requests; 2 usage or orchestration
error; 3 a check failed, or the run made no request (the implicit requests>0,
unless --allow-no-requests); 4 a load generator saturated (unless --allow-saturated).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import fleet_cmd, report_cmd, run_cmd, sandbox_cmd, size_cmd, ui_cmd

EPILOG = """\
examples:
  locust-fleet provision -i inventories/lab --plan locustfiles/website
  locust-fleet run -i inventories/lab --plan locustfiles/website -u 50 -r 25 -t 20s \\
      --check 'fail_ratio<0.01' --check 'p95<500'
  locust-fleet run -i inventories/lab --plan locustfiles/website -u 50 -r 25 -t 2h --detach
  locust-fleet attach -i inventories/lab [RUN_ID]   follow it, fetch and judge it when it ends
  locust-fleet status -i inventories/lab
  locust-fleet report results/<run-id>
  locust-fleet ui -i inventories/lab --plan locustfiles/website   web UI through an SSH forward
  locust-fleet fetch -i inventories/lab       stop the UI's test, fetch its results
  locust-fleet compare results/<run-a> results/<run-b>
  locust-fleet size -i inventories/lab --plan locustfiles/website -u 100000   what it needs
  locust-fleet sandbox up --workers 2         boot a master, 2 workers and an nginx target
  locust-fleet sandbox status
  locust-fleet sandbox down                   remove the sandbox; nothing is left behind
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="locust-fleet",
        description="Run distributed Locust load tests on a fleet of Linux hosts, with Ansible.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"locust-fleet {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    fleet_cmd.register(verbs)
    run_cmd.register(verbs)
    run_cmd.register_attach(verbs)
    report_cmd.register(verbs)
    size_cmd.register(verbs)
    sandbox_cmd.register(verbs)
    ui_cmd.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
