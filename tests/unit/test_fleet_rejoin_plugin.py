"""roles/locust_run/files/locust_fleet_rejoin.py: workers that join a running test and stay
idle get users (the run's own count, dispatched again), and only then."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

from locust.runners import STATE_RUNNING, STATE_SPAWNING

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "locust_fleet_rejoin", REPO / "roles/locust_run/files/locust_fleet_rejoin.py"
)
rejoin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rejoin)


class Runner:
    def __init__(self, ready, state=STATE_RUNNING, spawning_completed=True, dispatching=False):
        self.state = state
        self.spawning_completed = spawning_completed
        self.spawning_greenlet = SimpleNamespace(dead=not dispatching)
        self.clients = SimpleNamespace(ready=[SimpleNamespace(id=i) for i in ready])
        self.target_user_count, self.spawn_rate, self.worker_count = 20, 10.0, 4
        self.started = []

    def start(self, users, rate):
        self.started.append((users, rate))


def test_a_worker_idle_for_two_looks_gets_the_runs_users_dispatched_again():
    runner = Runner(["w2_new"])
    seen = rejoin.redistribute_if_idle(runner, set())
    assert runner.started == [] and seen == {"w2_new"}  # one look is not enough
    assert rejoin.redistribute_if_idle(runner, seen) == set()
    assert runner.started == [(20, 10.0)]  # the same count and rate: users move, none added


def test_nothing_is_dispatched_while_spawning_or_when_every_worker_has_users():
    for runner in (
        Runner(["w"], state=STATE_SPAWNING),
        Runner(["w"], spawning_completed=False),
        Runner(["w"], dispatching=True),
        Runner([]),
    ):
        seen = rejoin.redistribute_if_idle(runner, {"w"})
        rejoin.redistribute_if_idle(runner, seen)
        assert runner.started == []


def test_a_different_idle_worker_at_the_next_look_waits_its_own_second_look():
    runner = Runner(["a"])
    seen = rejoin.redistribute_if_idle(runner, set())
    runner.clients.ready = [SimpleNamespace(id="b")]
    assert rejoin.redistribute_if_idle(runner, seen) == {"b"}
    assert runner.started == []
