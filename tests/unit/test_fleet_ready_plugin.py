"""roles/locust_run/files/locust_fleet_ready.py: the headless master waits for its workers in
short steps, and never past its bound (then Locust's own loop decides)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "locust_fleet_ready", REPO / "roles/locust_run/files/locust_fleet_ready.py"
)
ready = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ready)


class Workers:
    """A runner whose workers become ready one per look, from the third look on."""

    def __init__(self) -> None:
        self.looks = 0

    @property
    def clients(self) -> SimpleNamespace:
        self.looks += 1
        return SimpleNamespace(ready=[object()] * max(0, self.looks - 2))


def test_it_returns_as_soon_as_every_worker_is_ready() -> None:
    runner, naps = Workers(), []
    assert ready.wait_for_workers(runner, 4, 10, sleep=naps.append) is True
    assert runner.looks == 6
    assert naps == [ready.POLL_SECONDS] * 5  # 50 ms steps, not Locust's whole second


def test_it_gives_up_at_its_bound_and_leaves_the_rest_to_locust() -> None:
    runner = SimpleNamespace(clients=SimpleNamespace(ready=[]))
    started = time.monotonic()
    assert ready.wait_for_workers(runner, 1, 0.2, sleep=time.sleep) is False
    assert 0.2 <= time.monotonic() - started < 1.0


def test_it_does_nothing_outside_a_headless_master(monkeypatch) -> None:
    class Master:
        clients = property(lambda self: pytest.fail("looked for workers"))

    monkeypatch.setattr(ready, "MasterRunner", Master)
    worker_env = SimpleNamespace(parsed_options=SimpleNamespace(headless=True, expect_workers=4))
    ready._wait_for_the_workers(worker_env, runner=object())  # not a MasterRunner: returns
    ui_master = SimpleNamespace(parsed_options=SimpleNamespace(headless=False, expect_workers=4))
    ready._wait_for_the_workers(ui_master, runner=Master())  # the UI starts by hand: returns
