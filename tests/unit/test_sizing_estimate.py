"""`locust-fleet size`'s arithmetic (locust_fleet.sizing) on a recorded run: the plan's costs
measured from its CPU and limits samples, scaled to the users asked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from locust_fleet.results.loader import load_run
from locust_fleet.sizing import CalibrationError, estimate

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"


def calibration(tmp_path: Path, limits: str = "") -> Path:
    run = tmp_path / "run"
    shutil.copytree(DATA / "saturated", run)  # 10 users on one worker host, 'controller'
    if limits:
        (run / "limits_samples.csv").write_text(
            "timestamp,host,limit,subject,used,maximum\n" + limits
        )
    return run


def test_cpu_per_request_and_requests_per_user_scale_to_processes(tmp_path: Path) -> None:
    found = estimate(load_run(calibration(tmp_path)), 1000)
    assert found.calibration_users == 10
    # Measured over the hold (the load window but its first 3 s).
    assert found.rps_per_user == pytest.approx(22.8, rel=0.01)
    assert found.cpu_seconds_per_request == pytest.approx(0.00407, rel=0.02)
    # 1,000 users x 22.8 req/s x 4.07 ms = 92.8 cores, 0.75 of a core a process: 124.
    assert found.processes == 124 and found.hosts is None and found.memory_gb is None
    assert "they need 124 worker processes (at most 75% of a core each)" in found.lines()[1]
    assert not any(line.startswith("caution") for line in found.lines())  # 93% busy


def test_memory_files_and_cores_come_from_the_limits_samples(tmp_path: Path) -> None:
    t = "2026-12-01T10:00:{:02d}.000+00:00,controller,"
    limits = (
        t.format(0)
        + "memory,MemAvailable,1000000,8000000\n"
        + t.format(5)
        + "memory,MemAvailable,1020000,8000000\n"
        + t.format(0)
        + "open_files,locust-worker@1.service[9],15,1024\n"
        + t.format(5)
        + "open_files,locust-worker@1.service[9],35,1024\n"
        + t.format(5)
        + "run_queue,procs_running,3,8\n"
    )
    found = estimate(load_run(calibration(tmp_path, limits)), 1000)
    assert found.memory_kb_per_user == pytest.approx(2000)  # 20,000 kB over 10 users
    assert found.files_per_user == pytest.approx(2.0)
    assert found.cores_per_host == 8 and found.nofile == 1024
    assert found.hosts == 16  # 124 processes, 8 a host
    assert found.memory_gb == pytest.approx(1000 * 2000 / 1024 / 1024)


def test_a_calibration_without_requests_is_refused(tmp_path: Path) -> None:
    run = calibration(tmp_path)
    lines = (run / "locust_stats.csv").read_text().splitlines()
    header = lines[0].split(",")
    count = header.index("Request Count")
    zeroed = [lines[0]] + [
        ",".join("0" if i == count else c for i, c in enumerate(line.split(",")))
        for line in lines[1:]
    ]
    (run / "locust_stats.csv").write_text("\n".join(zeroed) + "\n")
    with pytest.raises(CalibrationError, match="made no request"):
        estimate(load_run(run), 1000)


def test_nearly_idle_workers_come_with_a_caution(tmp_path: Path) -> None:
    from dataclasses import replace

    found = replace(estimate(load_run(calibration(tmp_path)), 1000), worker_busy_percent=0.7)
    assert found.lines()[-1].startswith(
        "caution: the workers were nearly idle (0.7% of a core each), so the CPU per request"
    )


def test_hosts_keep_their_connections_under_half_the_port_range(tmp_path: Path) -> None:
    t = "2026-12-01T10:00:{:02d}.000+00:00,controller,"
    limits = (
        t.format(0)
        + "open_files,locust-worker@1.service[9],15,20000\n"
        + t.format(5)
        + "open_files,locust-worker@1.service[9],25,20000\n"  # one connection per user
        + t.format(5)
        + "local_ports,10.0.0.20:80,10,55296\n"
        + t.format(5)
        + "run_queue,procs_running,3,64\n"
    )
    found = estimate(load_run(calibration(tmp_path, limits)), 100000)
    # 100,000 connections, 27,648 (half the range) a host: 4 hosts, though the cores (64 a
    # host) would take the processes on fewer.
    assert found.port_range == 55296 and found.hosts_by_ports == 4
    assert found.hosts == max(4, -(-found.processes // 64))
    assert "(at least 4 to keep each under half its 55,296 local ports" in found.lines()[1]
