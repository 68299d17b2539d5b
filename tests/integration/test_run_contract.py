"""The run contract on the real sandbox: the master holds each run's state, a run outlives
its controller (--detach, a SIGKILLed controller) and `attach` brings it home with the same
verdict as `run`, every run keeps its playbook record, and stop with nothing running
changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from locust_fleet.record import SCHEMA_VERSION

from .sandbox_hosts import CLI, REPO, cli, flat

CSV_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
)


def _master(fleet) -> str:
    return fleet.role("master")[0]["name"]


def _state(fleet, run_id: str) -> dict:
    text = fleet.ssh(_master(fleet), f"cat /var/lib/locust/state/{run_id}.json").stdout
    return json.loads(text)


def _wait_ended(fleet, run_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(fleet, run_id)
        if state["phase"] == "ended":
            return state
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not end on the fleet within {timeout} s")


def _attach(fleet, results: Path, *args: str) -> subprocess.CompletedProcess:
    return cli("attach", "-i", str(fleet.inventory), *args, "--results", str(results))


def test_a_run_outlives_its_sigkilled_controller_and_attach_brings_it_home(fleet, tmp_path):
    results = tmp_path / "results"
    run_id = "sigkill-controller-1"
    before = fleet.run_ids()
    proc = subprocess.Popen(
        fleet.run_argv(results, "--run-id", run_id, users="4", run_time="20s"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert fleet.wait_until_running(proc, before) == run_id
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the controller and its ansible and ssh: gone
        proc.wait()
    # The claim follows the run, not the dead controller: a second run is refused meanwhile.
    refused = fleet.run(tmp_path / "second", run_time="3s")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "nothing was started" in flat(refused.stdout + refused.stderr)
    state = _wait_ended(fleet, run_id)
    assert state["exit"]["code"] == "exited" and str(state["exit"]["status"]) == "0", state
    done = _attach(fleet, results, run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = results / run_id
    for name in (*CSV_FILES, "report.html", "stats.json", "master.log", "run.json"):
        assert (run_dir / name).is_file(), name
    record = json.loads((run_dir / "run.json").read_text())
    assert record["schema_version"] == SCHEMA_VERSION and record["phase"] == "ended"
    assert record["master_exit_code"] == 0 and record["parameters"]["users"] == 4
    history = (run_dir / "locust_stats_history.csv").read_text().splitlines()
    stamps = [int(line.split(",")[0]) for line in history[1:] if ",Aggregated," in line]
    assert stamps[-1] - stamps[0] >= 18, "the history covers the whole run time"
    hosts = {h["name"] for h in fleet.hosts if h["role"] in ("master", "worker")}
    assert {p.stem for p in (run_dir / "journals").glob("*.log")} == hosts
    samples = (run_dir / "cpu_samples.csv").read_text().splitlines()[1:]
    assert {line.split(",")[1] for line in samples} == hosts
    assert (run_dir / "summary.md").is_file()
    # The next run needs no cleanup: the fleet was given back by the run's end.
    again = fleet.run(tmp_path / "third", run_time="3s")
    assert again.returncode == 0, again.stdout + again.stderr


def test_detach_returns_at_once_and_attach_applies_the_kept_checks(fleet, tmp_path):
    results = tmp_path / "results"
    started = time.monotonic()
    detached = fleet.run(results, "--detach", "--check", "p95<0.001", users="4", run_time="10s")
    assert detached.returncode == 0, detached.stdout + detached.stderr
    output = flat(detached.stdout + detached.stderr)
    assert "locust-fleet attach -i" in output
    (run_id,) = [p.name for p in results.iterdir()]
    assert run_id in output
    assert time.monotonic() - started < 60, "detach returns once the master runs"
    assert _state(fleet, run_id)["phase"] == "running"
    # Without RUN_ID: the fleet's current run; its kept check fails it (exit 3).
    followed = _attach(fleet, results)
    assert followed.returncode == 3, followed.stdout + followed.stderr
    assert "p95" in flat(followed.stdout + followed.stderr)
    assert "running" in followed.stderr  # live progress, as run prints it
    record = json.loads((results / run_id / "run.json").read_text())
    assert record["checks"] == ["p95<0.001"]
    # On a finished run it fetches and reports at once, with the same verdict.
    again = _attach(fleet, tmp_path / "again", run_id)
    assert again.returncode == 3, again.stdout + again.stderr


def test_the_master_keeps_each_runs_state_and_stop_with_nothing_running_changes_nothing(
    fleet, tmp_path
):
    results = tmp_path / "results"
    done = fleet.run(results, "--run-id", "state-on-master-1", users="2", run_time="3s")
    assert done.returncode == 0, done.stdout + done.stderr
    state = _state(fleet, "state-on-master-1")
    assert state["phase"] == "ended" and state["mode"] == "headless"
    assert state["spec"]["users"] == 2 and state["expected_workers"] >= 2
    assert "@" in state["controller"] and state["ended"] >= state["started"]
    run_json = results / "state-on-master-1" / "run.json"
    digest = hashlib.sha256(run_json.read_bytes()).hexdigest()
    before = fleet.ssh(_master(fleet), "sha256sum /var/lib/locust/state/*.json").stdout
    stopped = cli("stop", "-i", str(fleet.inventory), "-e", f"locust_results_dir={results}")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "Nothing is running" in flat(stopped.stderr), stopped.stderr
    assert hashlib.sha256(run_json.read_bytes()).hexdigest() == digest
    assert fleet.ssh(_master(fleet), "sha256sum /var/lib/locust/state/*.json").stdout == before
    status = cli("status", "-i", str(fleet.inventory))
    assert status.returncode == 0 and "state-on-master-1" in status.stdout, status.stdout


def test_every_run_keeps_its_playbook_record_and_a_reused_id_is_refused(fleet, tmp_path):
    results = tmp_path / "results"
    done = fleet.run(results, "--run-id", "record-kept-1", users="2", run_time="3s")
    assert done.returncode == 0, done.stdout + done.stderr
    record = results / "record-kept-1" / "ansible" / "run_test"
    assert "PLAY RECAP" in (record / "stdout").read_text()
    assert len(list((record / "job_events").glob("*.json"))) > 10
    again = fleet.run(results, "--run-id", "record-kept-1", users="2", run_time="3s")
    assert again.returncode == 2, again.stdout + again.stderr
    assert "was used already" in flat(again.stderr)
    # A playbook that fails names its record.
    bad = subprocess.run(
        [CLI, "run", "-i", str(fleet.inventory), "--plan", str(tmp_path / "no-such-plan"),
         "-u", "1", "-r", "1", "-t", "2s", "--results", str(results), "--run-id", "bad-plan-1"],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2
    assert str(results / "bad-plan-1" / "ansible" / "run_test") in flat(bad.stderr), bad.stderr
