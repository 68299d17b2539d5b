"""The run time as the upper bound of a load shape (loaded next to a plan that has one).

When a LoadTestShape drives a headless run, Locust ignores --run-time: the master
waits for the shape's own end. The fleet promises ``-t`` as the run's upper bound,
so this plugin ends the shape there the way a shape ends itself (its tick returns
None: Locust stops the users and quits cleanly, its statistics written), and a
watchdog stops a run still ramping a few seconds later. What happened is written
to the file given by --fleet-shape-record (JSON, see write_record), which the
fleet brings home and run.json reports. Only the master loads this file.
"""

from __future__ import annotations

import json
import logging
import os

import gevent
from locust import events
from locust.runners import STATE_INIT, STATE_RUNNING, STATE_SPAWNING

SCHEMA = 1
# A stage's ramp blocks the shape's ticks: past the bound by this much, stop the runner.
WATCHDOG_SLACK_SECONDS = 3.0
logger = logging.getLogger("locust_fleet.shape_bound")


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument(
        "--fleet-shape-bound",
        type=float,
        default=0.0,
        include_in_web_ui=False,
        help="seconds after which the fleet ends the load shape (the run's -t)",
    )
    parser.add_argument(
        "--fleet-shape-record",
        default="",
        include_in_web_ui=False,
        help="where to write what the shape did (JSON)",
    )


def write_record(path: str, record: dict) -> None:
    """schema, shape_class, bound_seconds, cut_by_run_time, cut_at_seconds, ended_by_shape."""
    if not path:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(record, out, indent=2, sort_keys=True)
        out.write("\n")
    os.replace(tmp, path)


@events.init.add_listener
def _bound_the_shape(environment, **_kwargs) -> None:
    options = environment.parsed_options
    shape = environment.shape_class
    if shape is None or options is None or getattr(options, "worker", False):
        return
    bound = float(getattr(options, "fleet_shape_bound", 0) or 0)
    path = getattr(options, "fleet_shape_record", "") or ""
    if bound <= 0:
        return
    record = {
        "schema": SCHEMA,
        "shape_class": type(shape).__name__,
        "bound_seconds": bound,
        "cut_by_run_time": False,
        "cut_at_seconds": None,
        "ended_by_shape": False,
    }
    own_tick = shape.tick
    watchdog: list[gevent.Greenlet] = []

    def cut(elapsed: float) -> None:
        if record["cut_by_run_time"]:
            return
        record.update(cut_by_run_time=True, cut_at_seconds=round(elapsed, 1))
        logger.info(
            "locust-fleet: the run time (%gs) ends the shape %s after %.1f s",
            bound,
            record["shape_class"],
            elapsed,
        )
        write_record(path, record)

    def stop_if_still_running() -> None:
        runner = environment.runner
        if runner is not None and runner.state in (STATE_INIT, STATE_SPAWNING, STATE_RUNNING):
            cut(shape.get_run_time())
            runner.stop()  # the shape's loop then ends and Locust quits (headless)

    def bounded_tick():
        if not watchdog:
            late = bound + WATCHDOG_SLACK_SECONDS
            watchdog.append(gevent.spawn_later(late, stop_if_still_running))
        if record["cut_by_run_time"]:
            return None
        elapsed = shape.get_run_time()
        if elapsed >= bound:
            cut(elapsed)
            return None
        tick = own_tick()
        if tick is None:
            record["ended_by_shape"] = True
        return tick

    shape.tick = bounded_tick

    @events.quitting.add_listener
    def _write_at_the_end(**_kw) -> None:
        for greenlet in watchdog:
            greenlet.kill(block=False)
        write_record(path, record)
