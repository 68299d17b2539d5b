"""Keeps one sandbox host's systemd-nspawn going across reboots, as a real machine comes back.

A reboot inside the container ends systemd-nspawn with exit status 133; this process then
boots the host again from the same overlay (Debian's systemd-nspawn@.service does the same
with RestartForceExitStatus=133). SIGTERM is handed to the running nspawn (a clean power-off)
and ends the loop; any other exit status ends it too, with that status.

    python -m locust_fleet.sandbox.host_supervisor [--cgroup-procs FILE] -- systemd-nspawn ...

`--cgroup-procs`: each nspawn starts in that cgroup (see Machine.start), this process stays out
of it, so the container's root cgroup holds only the container. nspawn is killed when this
process dies (a crash of the supervisor is a crash of nspawn, which Machine.wait_stopped handles).
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
from pathlib import Path

REBOOT_EXIT_STATUS = 133
PR_SET_PDEATHSIG = 1


def _child_setup(cgroup_procs: str | None):
    def setup() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if cgroup_procs:
            Path(cgroup_procs).write_text("0")

    return setup


def supervise(command: list[str], cgroup_procs: str | None) -> int:
    child: subprocess.Popen | None = None
    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            preexec_fn=_child_setup(cgroup_procs),
        )
        if stopping:  # SIGTERM came between two boots
            child.send_signal(signal.SIGTERM)
        status = child.wait()
        if stopping or status != REBOOT_EXIT_STATUS:
            return status if status >= 0 else 128 - status  # killed by a signal
        print("host_supervisor: the host rebooted; booting it again", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="host_supervisor")
    parser.add_argument("--cgroup-procs")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the systemd-nspawn command after --")
    return supervise(command, args.cgroup_procs)


if __name__ == "__main__":
    sys.exit(main())
