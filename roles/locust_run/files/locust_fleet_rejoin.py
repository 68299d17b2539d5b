"""Give users to workers that join a running test (loaded by every headless master).

A worker that connects while the test runs (its process restarted, its host rebooted) gets
users from Locust only if no dispatch is under way at that instant. A host that reboots
first tells the master that its workers quit, which starts a dispatch over the others, so
its new workers arrive during it and stay idle for the rest of the run: the run goes on
with fewer users than asked, and says nothing. This plugin looks every CHECK_SECONDS; when
the test is running (not spawning), the master's spawning greenlet has ended, and the same
worker has been ready without users for two looks in a row, it dispatches the run's own
user count again over every connected worker (Locust's runner.start with the same count
and spawn rate: the users move, none is added). Locust's own dispatcher is not asked
whether a dispatch is under way: a worker that quits during one leaves it saying so for
the rest of the run. Only the master loads this file.
"""

from __future__ import annotations

import logging

import gevent
from locust import events
from locust.runners import STATE_RUNNING, MasterRunner

CHECK_SECONDS = 2.0
logger = logging.getLogger("locust_fleet.rejoin")


def idle_workers(runner) -> set[str]:
    """Workers connected to a running test that hold no users (never dispatched to)."""
    if runner.state != STATE_RUNNING or not runner.spawning_completed:
        return set()
    spawning = runner.spawning_greenlet
    if spawning is not None and not spawning.dead:
        return set()
    return {client.id for client in runner.clients.ready}


def redistribute_if_idle(runner, seen: set[str]) -> set[str]:
    """One look; returns the idle workers to compare with at the next look."""
    idle = idle_workers(runner)
    if idle and idle & seen:
        for worker in sorted(idle):
            logger.info("locust-fleet: worker %s joined the running test with no users", worker)
        logger.info(
            "locust-fleet: dispatching the test's %d users over all %d workers again",
            runner.target_user_count,
            runner.worker_count,
        )
        runner.start(runner.target_user_count, runner.spawn_rate)
        return set()
    return idle


def keep_every_worker_busy(runner, sleep=gevent.sleep) -> None:
    seen: set[str] = set()
    while True:
        sleep(CHECK_SECONDS)
        try:
            seen = redistribute_if_idle(runner, seen)
        except Exception:  # never take the master down over this
            logger.exception("locust-fleet: could not hand users to the workers that joined")
            seen = set()


@events.init.add_listener
def _watch_for_joining_workers(environment, runner=None, **_kwargs) -> None:
    options = environment.parsed_options
    if isinstance(runner, MasterRunner) and options is not None and options.headless:
        gevent.spawn(keep_every_worker_busy, runner)
