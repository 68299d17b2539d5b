"""Faults of whole hosts during a run on the real sandbox fleet: a worker host or the master
host rebooted (a sandbox host boots again as a machine does: sandbox/host_supervisor.py), the
master's results disk full. Each keeps what was saved, says what happened, and leaves the
fleet ready for the next run without cleanup."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from .sandbox_hosts import flat, stop
from .test_faults import _finish, _run_dir, _start_run, _wait_running

RUNS = "/var/lib/locust/runs"


def _boot_id(fleet, host: str) -> str:
    return fleet.ssh(host, "cat /proc/sys/kernel/random/boot_id").stdout.strip()


def _reboot(fleet, host: str) -> str:
    """Reboot the host from inside, as an operator would; returns its boot id before."""
    before = _boot_id(fleet, host)
    fleet.ssh(host, "systemctl reboot", check=False)  # the connection may drop at once
    return before


def _wait_back(fleet, host: str, old_boot: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = fleet.ssh(host, "systemctl is-system-running --wait", check=False, timeout=30)
        if answer.stdout.strip() in ("running", "degraded") and _boot_id(fleet, host) != old_boot:
            return
        time.sleep(1)
    raise AssertionError(f"{host} did not come back within {timeout:.0f}s of its reboot")


def _users_by_second(run_dir: Path) -> list[int]:
    with (run_dir / "locust_stats_history.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]
    return [int(r["User Count"]) for r in rows]


def test_a_worker_host_rebooted_mid_run_comes_back_and_its_workers_rejoin_with_users(
    fleet, tmp_path
):
    host = fleet.role("worker")[1]["name"]
    run = _start_run(fleet, tmp_path, run_time="40s", users="20")
    try:
        _wait_running(fleet, run)
        time.sleep(3)
        old_boot = _reboot(fleet, host)
        code, output = _finish(run)
    finally:
        stop(run.proc)
    _wait_back(fleet, host, old_boot)
    assert code == 0, output[-3000:]  # the run completed
    run_dir = _run_dir(tmp_path)
    record = json.loads((run_dir / "run.json").read_text())
    kinds = [(e["kind"], e["host"]) for e in record["events"]]
    workers_per_host = record["workers_expected"] // len(fleet.role("worker"))
    assert kinds.count(("worker_quit", host)) >= workers_per_host, kinds
    assert kinds.count(("worker_joined", host)) == workers_per_host, kinds  # its new processes
    assert "worker joined" in output
    users = _users_by_second(run_dir)
    ramped = users.index(20)
    dip = next(i for i in range(ramped, len(users)) if 0 < users[i] < 20)  # the reboot's
    assert 20 in users[dip:], f"users never went back to 20 after the reboot: {users}"
    assert max(users) == 20, users  # and never more than asked


def test_the_master_host_rebooted_mid_run_is_reported_broken_and_the_next_run_needs_no_cleanup(
    fleet, tmp_path
):
    master = fleet.role("master")[0]["name"]
    run = _start_run(fleet, tmp_path / "rebooted", run_time="40s")
    try:
        _wait_running(fleet, run)
        time.sleep(6)  # Locust flushes the CSV history every 5 s
        old_boot = _reboot(fleet, master)
        code, output = _finish(run)
    finally:
        stop(run.proc)
    assert code == 2, output[-3000:]
    assert f"the master host {master} rebooted during the run" in flat(output), output[-3000:]
    run_dir = _run_dir(tmp_path / "rebooted")
    assert len((run_dir / "locust_stats_history.csv").read_text().splitlines()) > 2
    assert "rebooted during the run" in (run_dir / "summary.md").read_text()
    record = json.loads((run_dir / "run.json").read_text())
    assert "rebooted" in record["error"]
    assert _boot_id(fleet, master) != old_boot
    # A short run on the 2-core sandbox may see a worker starved at its start (exit 4).
    after = fleet.run(tmp_path / "after", "--allow-saturated", users="4", run_time="5s")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-2000:]


def test_the_masters_results_disk_full_is_named_nothing_fetched_is_lost_and_the_next_run_works(
    fleet, tmp_path
):
    master = fleet.role("master")[0]["name"]
    # A small disk of its own for the master's runs folder (as the locust user owns it).
    fleet.ssh(
        master,
        f"mount -t tmpfs -o size=4m,uid=$(id -u locust),gid=$(id -g locust),mode=0750 "
        f"lf-test-full {RUNS}",
    )
    try:
        refused = fleet.run(tmp_path / "refused", users="4", run_time="5s")
        assert refused.returncode == 2, refused.stdout[-3000:]
        said = flat(refused.stdout + refused.stderr)
        assert f"{master}: 4.0 MiB free in {RUNS}" in said, said[-2000:]
        assert "locust_run_min_free_mb (100 MiB)" in said and "nothing was started" in said
        assert fleet.ssh(master, f"ls -A {RUNS}").stdout.strip() == ""  # no run began

        run = fleet.start_run(tmp_path / "full", "--min-free-mb", "1", users="10", run_time="20s")
        try:
            run_id = fleet.wait_until_running(run.proc, run.before)
            fleet.ssh(master, f"dd if=/dev/zero of={RUNS}/filler bs=64k", check=False)
            code, output = _finish(run)
        finally:
            stop(run.proc)
        assert code == 2, output[-3000:]
        assert f"the master host {master} ran out of disk space in {RUNS}/{run_id}" in flat(
            output
        ), output[-3000:]
        run_dir = tmp_path / "full" / run_id
        assert "All users spawned" in (run_dir / "master.log").read_text()  # what was written
        assert (run_dir / "cpu_samples.csv").exists()  # and every host's samples
    finally:
        fleet.ssh(master, f"umount {RUNS}")
    # A short run on the 2-core sandbox may see a worker starved at its start (exit 4).
    after = fleet.run(tmp_path / "after", "--allow-saturated", users="4", run_time="5s")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-2000:]
