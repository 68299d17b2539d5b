"""The bench refuses a busy machine or one that holds a sandbox, and says what it saw."""

from __future__ import annotations

import os

from locust_fleet.bench import main as bench_main
from locust_fleet.bench.quiet import Quiet


def test_a_quiet_machine_passes() -> None:
    assert Quiet(3.0, (0.1, 0.2, 0.2), ()).problem() is None


def test_a_busy_machine_is_refused_with_its_figures() -> None:
    problem = Quiet(62.0, (4.1, 3.0, 2.0), ()).problem()
    assert problem and "busy" in problem and "62%" in problem and "4.10" in problem


def test_a_high_load_alone_is_refused() -> None:
    cores = os.cpu_count() or 1
    assert Quiet(1.0, (cores * 2.0, 0, 0), ()).problem()


def test_a_sandbox_left_up_is_refused_by_name() -> None:
    problem = Quiet(0.0, (0.0, 0.0, 0.0), ("it", "mb")).problem()
    assert problem and "it, mb" in problem


def test_help_prints_usage_and_runs_nothing(capsys) -> None:
    assert bench_main.main(["--help"]) == 0
    assert "--render" in capsys.readouterr().out
    assert bench_main.main(["--bogus"]) == 2
