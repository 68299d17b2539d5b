"""The saturation verdict on synthetic sample series and on the recorded runs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from locust_fleet.results import CpuSample, load_run
from locust_fleet.saturation import verdict, verdict_for

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"
T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def series(
    values: Sequence[float],
    *,
    role: str = "worker",
    host: str = "w1",
    unit: str = "locust-worker@1.service",
    pid: int = 100,
    start_s: float = 1.0,
    every_s: float = 1.0,
) -> list[CpuSample]:
    """One process sampled every ``every_s`` seconds from T0 + ``start_s``."""
    return [
        CpuSample(T0 + timedelta(seconds=start_s + i * every_s), host, role, unit, pid, v)
        for i, v in enumerate(values)
    ]


def run_window(seconds: float = 15.0) -> tuple[datetime, datetime]:
    return T0, T0 + timedelta(seconds=seconds)


def test_a_15_s_run_pinned_at_100_percent_is_flagged() -> None:
    result = verdict(series([100.0] * 15), *run_window())
    (worker,) = result.workers
    assert worker.saturated and result.workers_saturated and result.saturated
    assert worker.seconds_above == pytest.approx(15.0)
    assert worker.fraction_above == pytest.approx(1.0)
    assert (worker.peak_percent, worker.mean_percent) == (100.0, 100.0)
    assert result.summary().startswith("SATURATED: worker w1/locust-worker@1.service[100]")


def test_a_light_run_is_not_flagged() -> None:
    result = verdict(series([20.0, 35.0, 30.0, 25.0] * 4), *run_window(16))
    (worker,) = result.workers
    assert not worker.saturated and not result.saturated
    assert worker.peak_percent == 35.0
    assert worker.mean_percent == pytest.approx(27.5)
    assert worker.seconds_above == 0
    assert result.measured
    assert result.summary().startswith("not saturated")


def starved(cpu: Sequence[float], wait: Sequence[float]) -> list[CpuSample]:
    return [replace(sample, wait_percent=w) for sample, w in zip(series(cpu), wait, strict=True)]


def test_a_worker_starved_of_cpu_is_flagged_though_it_never_got_90_percent() -> None:
    # Four busy processes on two cores: each gets ~40% of a core and waits ~55%.
    result = verdict(starved([40.0, 45.0, 38.0] * 5, [55.0, 50.0, 57.0] * 5), *run_window())
    (worker,) = result.workers
    assert worker.peak_percent == 45.0
    assert worker.saturated and worker.starved
    assert worker.mean_wait_percent == pytest.approx(54.0)
    text = result.summary()
    assert text.startswith("SATURATED: worker w1/locust-worker@1.service[100]")
    assert "waited for a CPU 54%" in text
    assert "run fewer worker processes per host, or add hosts" in text


def test_a_little_waiting_on_a_light_worker_is_not_saturation() -> None:
    result = verdict(starved([20.0, 30.0] * 8, [5.0, 12.0] * 8), *run_window(16))
    assert not result.saturated
    assert result.workers[0].mean_wait_percent == pytest.approx(8.5)


def test_a_pinned_worker_is_saturated_but_not_starved() -> None:
    result = verdict(starved([99.0] * 15, [2.0] * 15), *run_window())
    (worker,) = result.workers
    assert worker.saturated and not worker.starved
    assert "fewer worker processes" not in result.summary()


def test_ten_percent_of_the_run_is_the_line() -> None:
    def pinned_for(seconds: int) -> list[float]:
        return [30.0] * 5 + [100.0] * seconds + [30.0] * (15 - seconds)

    one_second = pinned_for(1)  # 1 s of 20 = 5 %
    two_seconds = pinned_for(2)  # 10 %: not *more* than 10 %
    three_seconds = pinned_for(3)  # 15 %
    window = run_window(20)
    assert not verdict(series(one_second), *window).saturated
    assert not verdict(series(two_seconds), *window).saturated
    flagged = verdict(series(three_seconds), *window)
    assert flagged.saturated
    assert flagged.workers[0].seconds_above == pytest.approx(3.0)
    assert flagged.workers[0].fraction_above == pytest.approx(0.15)


def test_thresholds_are_parameters() -> None:
    samples = series([95.0] * 10 + [40.0] * 10)
    window = run_window(20)
    assert verdict(samples, *window).saturated
    assert not verdict(samples, *window, cpu_threshold=96.0).saturated
    assert not verdict(samples, *window, max_fraction=0.6).saturated
    with pytest.raises(ValueError, match="max_fraction"):
        verdict(samples, max_fraction=1.5)
    with pytest.raises(ValueError, match="cpu_threshold"):
        verdict(samples, cpu_threshold=0)


def test_one_saturated_worker_among_light_ones_flags_the_run() -> None:
    samples = (
        series([30.0] * 15, pid=1, unit="locust-worker@1.service")
        + series([100.0] * 15, pid=2, unit="locust-worker@2.service")
        + series([25.0] * 15, host="w2", pid=1)
    )
    result = verdict(samples, *run_window())
    assert len(result.workers) == 3
    assert [p.saturated for p in result.workers] == [False, True, False]
    assert result.saturated


def test_master_is_reported_and_has_its_own_flag() -> None:
    samples = series([100.0] * 15, role="master", host="m", unit="locust-master.service") + series(
        [20.0] * 15
    )
    result = verdict(samples, *run_window())
    assert result.processes[0].role == "master"  # the master is listed first
    assert result.master_saturated and not result.workers_saturated
    assert result.saturated
    quiet = verdict(
        series([2.0] * 15, role="master", unit="locust-master.service") + series([20.0] * 15),
        *run_window(),
    )
    assert not quiet.master_saturated and not quiet.saturated
    assert quiet.masters[0].peak_percent == 2.0


def test_a_restarted_worker_is_a_new_process() -> None:
    samples = series([100.0] * 8, pid=10) + series([100.0] * 7, pid=11, start_s=9)
    result = verdict(samples, *run_window())
    assert [p.pid for p in result.workers] == [10, 11]
    assert [p.samples for p in result.workers] == [8, 7]


def test_samples_outside_the_window_are_ignored() -> None:
    before = series([100.0] * 10, start_s=-20)  # pinned while importing, before the load
    during = series([30.0] * 15)
    result = verdict(before + during, *run_window())
    assert result.workers[0].samples == 15
    assert not result.saturated


def test_the_sample_of_the_second_before_the_load_is_not_counted() -> None:
    # Workers importing Locust as the run starts: the sample at T0 covers T0-1..T0.
    importing = series([40.0], start_s=0)
    importing = [replace(importing[0], wait_percent=60.0)]
    result = verdict(importing + series([5.0, 6.0, 5.0]), *run_window(3))
    assert result.workers[0].samples == 3 and not result.saturated
    after = series([5.0, 6.0, 5.0, 100.0])  # the last covers 3..4, after a 3 s window
    assert verdict(after, *run_window(3)).workers[0].samples == 3


def test_a_gap_in_sampling_counts_at_most_two_intervals() -> None:
    samples = series([100.0] * 3) + series([100.0], start_s=12)
    result = verdict(samples, *run_window(15))
    # 3 samples at 1 s, then one after a 9 s gap that counts for 2 s, not 9
    assert result.workers[0].seconds_above == pytest.approx(5.0)


def test_without_a_window_the_samples_span_is_used() -> None:
    result = verdict(series([100.0] * 5 + [10.0] * 5))
    assert result.window_seconds == pytest.approx(10.0)
    assert result.workers[0].fraction_above == pytest.approx(0.5)


def test_no_worker_samples_is_not_measured_and_not_flagged() -> None:
    result = verdict([])
    assert not result.measured and not result.saturated
    assert result.summary().startswith("not measured")
    master_only = verdict(series([40.0] * 5, role="master"))
    assert not master_only.measured


# --- the recorded runs ---------------------------------------------------------------------


def test_recorded_cpu_burning_run_is_flagged_though_locust_never_warned() -> None:
    results = load_run(DATA / "saturated")
    result = verdict_for(results)
    assert result.workers_saturated and not result.master_saturated
    (worker,) = result.workers
    assert worker.peak_percent == 101.0
    assert worker.seconds_above == pytest.approx(9.0, abs=0.1)
    assert worker.fraction_above == pytest.approx(0.6, abs=0.01)
    # Locust's own check samples every 10 s and says nothing in the first 20 s
    assert results.files.master_log is not None
    assert "CPU" not in results.files.master_log.read_text()


def test_recorded_light_distributed_run_is_not_flagged() -> None:
    result = verdict_for(load_run(DATA / "distributed"))
    assert result.measured and not result.saturated
    assert [p.role for p in result.processes] == ["master", "worker", "worker"]
    # 55% was the sample taken as the workers spawned, covering the second before the load
    assert max(p.peak_percent for p in result.workers) == 23.0
    # the window is the load (history seconds with users), not run.json's 19 s
    assert result.window_seconds == pytest.approx(15.0)


def test_recorded_standalone_run_has_no_worker_samples() -> None:
    result = verdict_for(load_run(DATA / "standalone"))
    assert not result.measured and not result.saturated
    assert result.masters[0].peak_percent == 51.0


def test_worker_hosts_without_samples_are_named(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(DATA / "distributed", run)
    data = json.loads((run / "run.json").read_text())
    data["hosts"]["workers"] = ["controller", "w2", "w3"]
    (run / "run.json").write_text(json.dumps(data))
    result = verdict_for(load_run(run))
    assert result.unsampled_hosts == ("w2", "w3")
    assert not result.saturated
    assert result.summary().endswith(
        "No CPU samples from worker host(s) w2, w3: not measured there."
    )
