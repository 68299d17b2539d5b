"""Faults during a run on the real sandbox fleet: the run goes on or stops cleanly, every
result is kept, and the user is told what happened. Each test leaves the fleet usable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from .sandbox_hosts import BIN, SandboxHosts, cli, flat, stop
from .sandbox_hosts import BackgroundRun as Run


def _start_run(fleet, results: Path, run_time: str = "30s", users: str = "20") -> Run:
    return fleet.start_run(results, users=users, run_time=run_time)


def _wait_running(fleet, run: Run) -> None:
    try:
        fleet.wait_until_running(run.proc, run.before)
    except BaseException:
        stop(run.proc)
        raise


def _finish(run: Run, timeout: float = 600) -> tuple[int, str]:
    try:
        out, err = run.proc.communicate(timeout=timeout)
    finally:
        stop(run.proc)
    return run.proc.returncode, out + err


def _run_dir(results: Path) -> Path:
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    return run_dir


def _main_pid(fleet, host: str, unit: str) -> int:
    return int(fleet.ssh(host, f"systemctl show -p MainPID --value {unit}").stdout.strip())


def _replacement_pid(fleet, host: str, unit: str, old: int, timeout: float = 30) -> int:
    """The unit's new main PID. Workers leave when the master quits at the run's end and
    systemd starts them again after RestartSec, so right after a run it may be 0 for a while."""
    deadline = time.monotonic() + timeout
    while True:
        pid = _main_pid(fleet, host, unit)
        if pid not in (0, old) or time.monotonic() > deadline:
            return pid
        time.sleep(1)


def test_killed_worker_process_is_restarted_rejoins_and_is_recorded(fleet, tmp_path):
    worker = fleet.role("worker")[0]["name"]
    run = _start_run(fleet, tmp_path, run_time="30s")
    _wait_running(fleet, run)
    victim = _main_pid(fleet, worker, "locust-worker@1.service")
    fleet.ssh(worker, f"kill -9 {victim}")
    code, output = _finish(run)
    assert code == 0, output[-3000:]
    replacement = _replacement_pid(fleet, worker, "locust-worker@1.service", victim)
    assert replacement not in (0, victim)
    record = json.loads((_run_dir(tmp_path) / "run.json").read_text())
    kinds = {(e["kind"], e["host"]) for e in record["events"]}
    assert ("worker_died", worker) in kinds, record["events"]
    assert ("worker_restarted", worker) in kinds, record["events"]
    # The restarted process connected again while the test ran.
    log = (_run_dir(tmp_path) / "master.log").read_text()
    assert log.count(f"{worker}_") > record["workers_expected"] / 2


def test_killed_master_is_reported_and_its_partial_history_fetched(fleet, tmp_path):
    master = fleet.role("master")[0]["name"]
    run = _start_run(fleet, tmp_path, run_time="40s")
    _wait_running(fleet, run)
    time.sleep(6)  # Locust flushes the CSV history every 5 s
    workers_before = {
        w["name"]: _main_pid(fleet, w["name"], "locust-worker@1.service")
        for w in fleet.role("worker")
    }
    killed_at = time.monotonic()
    fleet.ssh(master, f"kill -9 {_main_pid(fleet, master, 'locust-master.service')}")
    code, output = _finish(run)
    reported_after = time.monotonic() - killed_at
    assert code == 2, output[-3000:]
    assert reported_after < 60, f"the wrapper took {reported_after:.0f}s to notice"
    assert "did not exit normally" in flat(output)
    run_dir = _run_dir(tmp_path)
    history = (run_dir / "locust_stats_history.csv").read_text().splitlines()
    assert len(history) > 2, "the partial history was not fetched"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["master_exit_code"] is None
    for worker, before in workers_before.items():  # restarted: none keeps generating load
        assert _main_pid(fleet, worker, "locust-worker@1.service") != before


def test_worker_host_powered_off_mid_run_finishes_on_the_rest(fleet, tmp_path):
    lost = fleet.role("worker")[1]["name"]
    state = json.loads(Path(f"/var/lib/locust-fleet/sandbox/{fleet.name}/state.json").read_text())
    # The container's init: SIGKILL ends every process in it at once, as a power cut would.
    init = next(h["leader"] for h in state["hosts"] if h["name"] == lost)
    assert Path(f"/proc/{init}/comm").read_text().strip() == "systemd"
    run = _start_run(fleet, tmp_path, run_time="35s")
    try:
        _wait_running(fleet, run)
        os.kill(init, signal.SIGKILL)
        code, output = _finish(run)
    finally:
        stop(run.proc)
        restored = SandboxHosts.up(fleet.name, workers=2, inventory=fleet.inventory)
        assert all(h["ssh"] for h in restored.hosts)
        fleet.hosts = restored.hosts
    assert code == 0, output[-3000:]  # degraded, not failed: the users moved to the rest
    run_dir = _run_dir(tmp_path)
    record = json.loads((run_dir / "run.json").read_text())
    assert ("worker_missing", lost) in {(e["kind"], e["host"]) for e in record["events"]}
    assert lost in (run_dir / "summary.md").read_text()
    assert "lost" in flat(output) or "missing" in flat(output)


def test_target_down_completes_with_failures_recorded_and_exit_1(fleet, tmp_path):
    target = fleet.role("target")[0]["name"]
    fleet.ssh(target, "systemctl stop nginx")
    try:
        code, output = _finish(_start_run(fleet, tmp_path, run_time="8s", users="5"))
    finally:
        fleet.ssh(target, "systemctl start nginx")
    assert code == 1, output[-3000:]
    assert "requests failed" in flat(output)
    run_dir = _run_dir(tmp_path)
    failures = (run_dir / "locust_failures.csv").read_text()
    assert "ConnectionRefusedError" in failures or "Connection refused" in failures
    assert (run_dir / "report.html").exists()


def test_second_run_while_one_is_going_is_refused(fleet, tmp_path):
    first = _start_run(fleet, tmp_path / "a", run_time="25s")
    _wait_running(fleet, first)
    second = cli(
        "run",
        "-i",
        str(fleet.inventory),
        "--plan",
        "locustfiles/website",
        "-u",
        "5",
        "-r",
        "5",
        "-t",
        "5s",
        "--results",
        str(tmp_path / "b"),
    )
    code, output = _finish(first)
    assert second.returncode == 2, second.stderr[-2000:]
    assert "a test is already running" in flat(second.stderr)
    assert "playbooks/stop.yml" in flat(second.stderr)
    assert code == 0, output[-3000:]


def test_stop_ends_a_running_test_and_brings_its_partial_results_home(fleet, tmp_path):
    run = _start_run(fleet, tmp_path / "run", run_time="60s", users="6")
    _wait_running(fleet, run)
    stopped = cli(
        "stop", "-i", str(fleet.inventory), "-e", f"locust_results_dir={tmp_path / 'stopped'}"
    )  # fmt: skip
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    master = fleet.role("master")[0]["name"]
    active = fleet.ssh(master, "systemctl is-active locust-master.service", check=False)
    assert active.stdout.strip() != "active"
    run_dir = _run_dir(tmp_path / "stopped")
    record = json.loads((run_dir / "run.json").read_text())
    assert record["error"] == "stopped by playbooks/stop.yml"
    assert record["parameters"]["users"] == 6
    assert record["parameters"]["run_seconds"] == 60
    assert sum(record["worker_processes"].values()) >= 2
    lines = (run_dir / "locust_stats.csv").read_text().splitlines()
    aggregated = next(line for line in lines if ",Aggregated," in line).split(",")
    assert int(aggregated[2]) > 0  # the requests made before the stop
    code, output = _finish(run)  # the run itself sees its master end early and still fetches
    assert code == 2, output[-2000:]
    assert "the Locust master was stopped from outside" in flat(output)
    assert (_run_dir(tmp_path / "run") / "run.json").is_file()


def test_two_runs_started_at_the_same_instant_one_goes_on(fleet, tmp_path):
    """Both pass the idle-master check at once; the claim on the master lets one through."""
    runs = [_start_run(fleet, tmp_path / name, run_time="10s", users="4") for name in "ab"]
    outcomes = [_finish(run) for run in runs]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 2], [output[-2000:] for _, output in outcomes]
    refused = flat(next(output for code, output in outcomes if code == 2))
    assert "claimed by run" in refused or "a test is already running" in refused, refused
    assert "nothing was started" in refused
    finished = [p for p in tmp_path.glob("*/*") if (p / "run.json").is_file()]
    assert len(finished) == 1  # the refused run made no run folder


def test_a_run_that_died_before_its_master_started_holds_the_fleet_until_stop(fleet, tmp_path):
    master = fleet.role("master")[0]["name"]
    claimed = fleet.ansible(
        master,
        "-m",
        "fleet.locust.locust_run_claim",
        "-a",
        "action=claim run_id=dead-run by=ops@elsewhere hold_seconds=900",
    )  # the claim of a controller that died before its master started
    assert claimed.returncode == 0, claimed.stdout
    refused = fleet.run(tmp_path / "refused")
    assert refused.returncode == 2, refused.stderr[-2000:]
    message = flat(refused.stderr)
    assert "claimed by run dead-run (from ops@elsewhere" in message, message
    assert "playbooks/stop.yml" in message
    stopped = cli(
        "stop", "-i", str(fleet.inventory), "-e", f"locust_results_dir={tmp_path / 'stopped'}"
    )  # fmt: skip
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    # Freed: the next run goes (test_next_run_after_the_faults_needs_no_cleanup runs one).
    assert fleet.ssh(master, "cat /run/locust-fleet/claim.json").stdout.strip() == ""


def test_host_with_another_locust_version_is_refused_then_corrected(fleet, tmp_path):
    wheels = tmp_path / "wheels"
    download = subprocess.run(
        [
            str(BIN / "pip"),
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(wheels),
            "locust==2.46.7",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert download.returncode == 0, download.stderr
    (wheel,) = wheels.glob("locust-2.46.7-*.whl")
    worker = fleet.role("worker")[1]["name"]
    fleet.copy(worker, wheel, f"/root/{wheel.name}")
    fleet.ssh(
        worker, f"/opt/locust/venv/bin/pip install -q --no-index --no-deps /root/{wheel.name}"
    )
    refused = cli(
        "run",
        "-i",
        str(fleet.inventory),
        "--plan",
        "locustfiles/website",
        "-u",
        "5",
        "-r",
        "5",
        "-t",
        "5s",
        "--results",
        str(tmp_path / "r"),
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert f"{worker}: Locust 2.46.7 where 2.47.0 is pinned" in flat(refused.stderr)
    corrected = cli("provision", "-i", str(fleet.inventory), "--plan", "locustfiles/website")
    assert corrected.returncode == 0, corrected.stderr[-3000:]
    version = fleet.ssh(worker, "/opt/locust/venv/bin/locust --version").stdout
    assert version.startswith("locust 2.47.0")


def test_next_run_after_the_faults_needs_no_cleanup(fleet, tmp_path):
    code, output = _finish(_start_run(fleet, tmp_path, run_time="5s", users="5"))
    assert code == 0, output[-3000:]
