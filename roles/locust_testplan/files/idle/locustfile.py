"""The idle plan (role locust_testplan): shipped when site.yml runs without a plan.

One User class whose task does nothing but wait. A worker started on this plan
first waits, before Locust connects, until something listens on the master's
port: with no master it sits idle, connected to nothing, instead of giving up
after Locust's connect retries (about five minutes) and being restarted by
systemd over and over. A run ships its own plan and restarts the workers on it.
"""

from __future__ import annotations

import socket
import sys
import time

from locust import User, constant, task


def _option(name: str, default: str) -> str:
    argv = sys.argv[1:]
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def _wait_for_a_master() -> None:
    host = _option("--master-host", "127.0.0.1")
    port = int(_option("--master-port", "5557"))
    while True:
        try:
            with socket.create_connection((host, port), timeout=5):
                return
        except OSError:
            time.sleep(10)


if "--worker" in sys.argv[1:]:
    _wait_for_a_master()


class Idle(User):
    """Waits; sends nothing anywhere."""

    wait_time = constant(60)

    @task
    def wait(self) -> None:
        """Nothing to do: the idle plan only keeps the workers ready."""
