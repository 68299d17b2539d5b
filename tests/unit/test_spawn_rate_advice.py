"""The wrapper warns, once the master has started, when the ramp is faster than Locust advises
for the fleet's worker processes (100 users/s each)."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from locust_fleet.runner.progress import STATE_ACTION, Progress, spawn_rate_advice


def state(rate: float, workers: int = 4, mode: str = "headless", shape=None) -> dict:
    spec = {"spawn_rate": rate, "users": 100000, "shape": shape}
    return {"mode": mode, "expected_workers": workers, "spec": spec}


def test_a_ramp_above_100_a_second_per_worker_is_warned_with_the_fleets_limit() -> None:
    assert spawn_rate_advice(state(1000, workers=5)) == (
        "WARNING: -r 1000 is 200 users/s for each of the 5 worker processes; Locust advises "
        "at most 100 (this fleet: -r 500). A faster ramp can starve the workers of CPU and "
        "make the master miss their heartbeats (the verdict then says so)."
    )
    assert spawn_rate_advice(state(400, workers=4)) is None
    assert spawn_rate_advice(state(1000, mode="ui")) is None
    assert spawn_rate_advice(state(1000, shape={"class": "Stages"})) is None


def test_the_run_prints_it_once_when_its_state_arrives() -> None:
    out = StringIO()
    progress = Progress(Console(file=out, force_terminal=False, width=300))
    event = {
        "event": "runner_on_ok",
        "event_data": {"task_action": STATE_ACTION, "res": {"state": state(1000, workers=5)}},
    }
    progress(event)
    progress(event)
    assert out.getvalue().count("WARNING: -r 1000 is 200 users/s") == 1


def test_the_preflights_cautions_are_printed_once_beside_it() -> None:
    out = StringIO()
    progress = Progress(Console(file=out, force_terminal=False, width=300))
    caution = "w1: 33334 users take 60% of its local port range (10240-65535) toward the target"
    event = {
        "event": "runner_on_ok",
        "event_data": {
            "task_action": STATE_ACTION,
            "res": {"state": {**state(100, workers=6), "cautions": [caution]}},
        },
    }
    progress(event)
    progress(event)
    assert out.getvalue().count(f"CAUTION: {caution}") == 1
    assert "WARNING" not in out.getvalue()  # 100/s over 6 processes is within Locust's advice
