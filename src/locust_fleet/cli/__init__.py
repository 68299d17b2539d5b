"""The `locust-fleet` command: a thin layer over the library.

Exit codes: 0 pass; 1 the test had failed requests; 2 usage or orchestration
error; 3 a check failed; 4 a load generator saturated (unless --allow-saturated).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import sandbox_cmd

EPILOG = """\
examples:
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
    sandbox_cmd.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
