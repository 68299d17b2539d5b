"""roles/locust_run/files/locust_fleet_keep_users.py: workers that joined a running test and
stay idle get users, workers that run more users than asked are told their share again (the
run's own count, dispatched again), and only once the mismatch has lasted."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

from locust.runners import STATE_RUNNING, STATE_SPAWNING

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "locust_fleet_keep_users", REPO / "roles/locust_run/files/locust_fleet_keep_users.py"
)
keep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keep)


class Runner:
    def __init__(self, ready=(), users=20, state=STATE_RUNNING, settled=True, spawning=False):
        self.state = state
        self.spawning_completed = settled
        self.spawning_greenlet = SimpleNamespace(dead=not spawning)
        self.clients = SimpleNamespace(ready=[SimpleNamespace(id=i) for i in ready])
        self.user_count, self.target_user_count, self.spawn_rate, self.worker_count = (
            users,
            20,
            10.0,
            4,
        )
        self.started = []

    def start(self, users, rate):
        self.started.append((users, rate))


def _looks(runner, times, stop_timeout=0.0):
    seen = ((), times[0])
    for now in times:
        seen = keep.correct_if_still_wrong(runner, seen, now, stop_timeout)
    return seen


def test_a_worker_idle_past_two_looks_gets_the_runs_users_dispatched_again():
    runner = Runner(ready=["w2_new"])
    _looks(runner, [0.0, 2.0])
    assert runner.started == []  # just joined: Locust may still give it users
    _looks(runner, [0.0, 2.0, 4.0])
    assert runner.started == [(20, 10.0)]  # the same count and rate: users move, none added


def test_more_users_than_asked_are_dispatched_again_once_the_stop_timeout_has_passed():
    runner = Runner(users=24)
    _looks(runner, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0], stop_timeout=10.0)
    assert runner.started == []  # users told to stop may take the stop timeout to end
    _looks(runner, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0], stop_timeout=10.0)
    assert runner.started == [(20, 10.0)]


def test_nothing_is_dispatched_while_spawning_or_when_the_users_match():
    for runner in (
        Runner(ready=["w"], state=STATE_SPAWNING),
        Runner(ready=["w"], settled=False),
        Runner(users=30, spawning=True),
        Runner(users=20),
        Runner(users=12),  # fewer: a worker lost for good, Locust hands its users out itself
    ):
        _looks(runner, [0.0, 2.0, 4.0, 6.0, 30.0])
        assert runner.started == []


def test_a_different_idle_worker_starts_its_own_wait():
    runner = Runner(ready=["a"])
    seen = _looks(runner, [0.0, 2.0])
    runner.clients.ready = [SimpleNamespace(id="b")]
    seen = keep.correct_if_still_wrong(runner, seen, 4.0)
    assert seen == (("b",), 4.0) and runner.started == []
