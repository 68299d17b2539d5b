"""Keep the users the workers run at the run's own count (loaded by every headless master).

Locust's master moves users between workers when one joins, quits or goes silent, and two
of its paths leave the count wrong for the rest of the run, without a word:

- too few: a worker that connects while the test runs (its process restarted, its host
  rebooted) gets users only if no dispatch is under way at that instant. A host that
  reboots first tells the master that its workers quit, which starts a dispatch over the
  others, so its new workers arrive during it and stay idle.
- too many: a worker silent for longer than the heartbeat liveness (starved of CPU, frozen)
  is taken for lost and its users are dispatched to the others while it keeps running
  them; when it is heard again the workers run more users than asked.

This plugin looks every CHECK_SECONDS; when the test is running (not spawning, the master's
spawning greenlet has ended) and the same mismatch lasts (a worker ready with no users for
two looks, or more users than the target for that and the stop timeout), it dispatches
the run's own count again over every connected worker (Locust's runner.start with the same
count and spawn rate: each worker is told its share, the users move, none is added).
Locust's dispatcher is not asked whether a dispatch is under way: a worker that quits
during one leaves it saying so for the rest of the run.

It also sets how many seconds a worker may stay silent before the master takes it for lost
(--fleet-heartbeat-liveness, locust_run_heartbeat_liveness; Locust's own is 3): a busy
worker is tolerated instead of having its users handed out. Only the master acts.
"""

from __future__ import annotations

import logging
import time

import gevent
import locust.runners
from locust import events
from locust.runners import STATE_RUNNING, MasterRunner

CHECK_SECONDS = 2.0
logger = logging.getLogger("locust_fleet.keep_users")


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument(
        "--fleet-heartbeat-liveness",
        type=int,
        default=0,
        include_in_web_ui=False,
        help="seconds a worker may be silent before the master takes it for lost (0: Locust's)",
    )


def mismatch(runner) -> tuple[str, ...]:
    """What is wrong with the users the workers run, while the test runs settled: the idle
    workers' ids, or ("over",) when they run more users than the target; () when nothing."""
    if runner.state != STATE_RUNNING or not runner.spawning_completed:
        return ()
    spawning = runner.spawning_greenlet
    if spawning is not None and not spawning.dead:
        return ()
    idle = tuple(sorted(client.id for client in runner.clients.ready))
    if idle:
        return idle
    return ("over",) if runner.user_count > runner.target_user_count else ()


def patience(wrong: tuple[str, ...], stop_timeout: float) -> float:
    """Seconds a mismatch must last before it is corrected: users told to stop may take
    the stop timeout to end, so too many users are given that long on top."""
    return 2 * CHECK_SECONDS + (stop_timeout if wrong == ("over",) else 0.0)


def correct_if_still_wrong(runner, seen, now: float, stop_timeout: float = 0.0):
    """One look at ``now``; ``seen`` is (mismatch, since) from the look before."""
    wrong = mismatch(runner)
    if not wrong:
        return (), now
    if wrong != seen[0]:
        return wrong, now
    if now - seen[1] < patience(wrong, stop_timeout):
        return seen
    if wrong == ("over",):
        logger.warning(
            "locust-fleet: the workers run %d users for a test of %d (a worker taken for lost "
            "kept its users)",
            runner.user_count,
            runner.target_user_count,
        )
    else:
        for worker in wrong:
            logger.info("locust-fleet: worker %s joined the running test with no users", worker)
    logger.info(
        "locust-fleet: dispatching the test's %d users over all %d workers again",
        runner.target_user_count,
        runner.worker_count,
    )
    runner.start(runner.target_user_count, runner.spawn_rate)
    return (), now


def keep_users(runner, stop_timeout: float, sleep=gevent.sleep, clock=time.monotonic) -> None:
    seen = ((), clock())
    while True:
        sleep(CHECK_SECONDS)
        try:
            seen = correct_if_still_wrong(runner, seen, clock(), stop_timeout)
        except Exception:  # never take the master down over this
            logger.exception("locust-fleet: could not dispatch the test's users again")
            seen = ((), clock())


@events.init.add_listener
def _watch_the_users(environment, runner=None, **_kwargs) -> None:
    options = environment.parsed_options
    if not isinstance(runner, MasterRunner) or options is None or not options.headless:
        return
    liveness = int(getattr(options, "fleet_heartbeat_liveness", 0) or 0)
    if liveness > 0:  # read by the master at each heartbeat and each worker's connect
        locust.runners.HEARTBEAT_LIVENESS = liveness
    gevent.spawn(keep_users, runner, float(getattr(options, "stop_timeout", 0) or 0))
