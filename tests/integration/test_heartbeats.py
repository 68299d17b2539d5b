"""A worker that stops answering for a while (frozen, as a worker starved of CPU is): Locust's
master takes it for lost after 3 s, the summary says heartbeats were missed, and a run that
counted more users than asked says so and exits 4 (never a silent overrun)."""

from __future__ import annotations

import csv

from .sandbox_hosts import flat, stop

USERS = 12


def _frozen_run(fleet, tmp_path, seconds: int):
    """A 25 s run during which worker 1 of the first worker host is frozen for ``seconds``."""
    worker = fleet.role("worker")[0]["name"]
    run = fleet.start_run(tmp_path, users=str(USERS), rate=str(USERS), run_time="25s")
    try:
        fleet.wait_until_running(run.proc, run.before)
        shown = fleet.ssh(worker, "systemctl show -p MainPID --value locust-worker@1.service")
        pid = shown.stdout.strip()
        frozen = fleet.ssh(
            worker, f"kill -STOP {pid} && sleep {seconds} && kill -CONT {pid}", timeout=seconds + 30
        )
        assert frozen.returncode == 0, frozen.stderr
        out, err = run.proc.communicate(timeout=600)
    finally:
        stop(run.proc)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    return run.proc.returncode, out + err, run_dir


def _peak_users(run_dir) -> int:
    with (run_dir / "locust_stats_history.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]
    return max(int(r["User Count"]) for r in rows)


def test_a_worker_silent_for_8_s_is_named_in_the_verdict_and_no_overrun_is_silent(fleet, tmp_path):
    code, output, run_dir = _frozen_run(fleet, tmp_path, 8)
    summary = flat((run_dir / "summary.md").read_text())
    assert "Locust's master warned: missed heartbeats (1x)" in summary, summary[-3000:]
    peak = _peak_users(run_dir)
    if peak > USERS:  # Locust handed its users to the others and counted them twice
        assert code == 4 and "OVERRUN: the history shows up to" in summary
    else:
        assert code == 0, output[-3000:]
