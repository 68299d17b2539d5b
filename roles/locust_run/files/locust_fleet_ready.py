"""Start a headless run as soon as its workers are ready (loaded by every headless master).

A headless master with --expect-workers checks for its workers once a second: it finds
none the instant it starts (they connect a fraction of a second later) and sleeps a whole
second before it looks again. This plugin waits for them in Locust's init event instead,
looking every 50 ms, so the master's own check finds them all at once and the run starts
as soon as they are there. It never waits past --expect-workers-max-wait (when set) nor
past MAX_WAIT_SECONDS: after that Locust's own loop takes over, with its own timeout and
messages. Only the master loads this file; it does nothing in any other process.
"""

from __future__ import annotations

import time

import gevent
from locust import events
from locust.runners import MasterRunner

POLL_SECONDS = 0.05
MAX_WAIT_SECONDS = 30.0


def ready_workers(runner) -> int:
    return len(runner.clients.ready)


def wait_for_workers(runner, expected: int, max_wait: float, sleep=gevent.sleep) -> bool:
    """Whether ``expected`` workers were ready within ``max_wait`` seconds."""
    deadline = time.monotonic() + max_wait
    while ready_workers(runner) < expected:
        if time.monotonic() >= deadline:
            return False
        sleep(POLL_SECONDS)
    return True


@events.init.add_listener
def _wait_for_the_workers(environment, runner=None, **_kwargs) -> None:
    options = environment.parsed_options
    if not isinstance(runner, MasterRunner) or options is None or not options.headless:
        return
    expected = int(getattr(options, "expect_workers", 0) or 0)
    limit = float(getattr(options, "expect_workers_max_wait", 0) or 0)
    wait_for_workers(runner, expected, min(limit, MAX_WAIT_SECONDS) if limit else MAX_WAIT_SECONDS)
