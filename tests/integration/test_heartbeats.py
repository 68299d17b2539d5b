"""Workers that stop answering for a while (frozen, as workers starved of CPU are), during a
run of 4,000 holding users on the sandbox fleet.

Locust's master takes a worker for lost after 3 s without a heartbeat and hands its users to
the others while it keeps running them: the missed-heartbeat cascade, reproduced here by
freezing both worker processes of one host. Seen before the fleet's plugin: 4 freezes of
4.5 s made the history show 4,900 users for a run of 4,000, to its end. The fleet tolerates
a worker silent for locust_run_heartbeat_liveness (10 s); one silent for longer is taken for
lost, and when it is heard again with its users the fleet tells every worker its share
again: the run says OVERRUN (exit 4) with when it was corrected, and it ends with the users
asked."""

from __future__ import annotations

import csv

from .sandbox_hosts import flat, stop

USERS = 4000
PLAN = "bench/plans/hold"  # each user holds a keep-alive connection and waits 60-120 s


def _frozen_run(fleet, tmp_path, freezes: int, seconds: float, run_time: str):
    """A run during which both worker processes of the first worker host are frozen
    ``freezes`` times for ``seconds``, 1 s apart, once every user has spawned."""
    host = fleet.role("worker")[0]["name"]
    run = fleet.start_run(tmp_path, users=str(USERS), rate="400", run_time=run_time, plan=PLAN)
    try:
        fleet.wait_until_running(run.proc, run.before)
        pids = " ".join(
            fleet.ssh(
                host, f"systemctl show -p MainPID --value locust-worker@{i}.service"
            ).stdout.strip()
            for i in (1, 2)
        )
        cycle = f"kill -STOP {pids}; sleep {seconds}; kill -CONT {pids}; sleep 1"
        frozen = fleet.ssh(
            host, f"for i in $(seq {freezes}); do {cycle}; done", timeout=freezes * 20 + 30
        )
        assert frozen.returncode == 0, frozen.stderr
        out, err = run.proc.communicate(timeout=600)
    finally:
        stop(run.proc)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    return run.proc.returncode, out + err, run_dir


def _users(run_dir) -> list[int]:
    with (run_dir / "locust_stats_history.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]
    return [int(r["User Count"]) for r in rows]


def test_workers_silent_for_4_s_at_a_time_are_tolerated_and_no_user_moves(fleet, tmp_path):
    code, output, run_dir = _frozen_run(fleet, tmp_path, freezes=3, seconds=4.5, run_time="35s")
    summary = flat((run_dir / "summary.md").read_text())
    assert max(_users(run_dir)) == USERS, _users(run_dir)
    assert "missed heartbeats" not in summary, summary[-3000:]
    assert code == 0, output[-3000:]


def test_the_missed_heartbeat_cascade_is_corrected_and_said(fleet, tmp_path):
    code, output, run_dir = _frozen_run(fleet, tmp_path, freezes=1, seconds=13, run_time="50s")
    users = _users(run_dir)
    summary = flat((run_dir / "summary.md").read_text())
    assert "Locust's master warned: missed heartbeats" in summary, summary[-3000:]
    if max(users) > USERS:  # the master handed out their users while they kept them
        assert code == 4, output[-3000:]
        assert "OVERRUN: the history shows up to" in summary
        assert "told every worker its share of the 4,000 users again at" in summary
    else:
        assert code == 0, output[-3000:]
    # Whatever Locust did, the run ends with the users asked, not more.
    assert [n for n in users if n][-1] == USERS, users
