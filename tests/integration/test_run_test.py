"""playbooks/run_test.yml and `locust-fleet run` on the provisioned sandbox: real Locust,
real workers over SSH, a real nginx target; results land on the controller."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from .sandbox_hosts import cli

CSV_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
)


def _target(fleet) -> str:
    return f"http://{fleet.role('target')[0]['ip']}"


@pytest.fixture(scope="module")
def playbook_run(fleet, tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    proc = fleet.playbook(
        "playbooks/run_test.yml",
        "-e",
        "locust_plan=locustfiles/website",
        "-e",
        "locust_users=50",
        "-e",
        "locust_spawn_rate=25",
        "-e",
        "locust_run_time=20s",
        "-e",
        f"locust_results_dir={results}",
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    (run_dir,) = list(results.iterdir())
    return run_dir, proc


def test_playbook_brings_every_result_file_home(playbook_run, fleet):
    run_dir, _ = playbook_run
    for name in (
        *CSV_FILES,
        "report.html",
        "stats.json",
        "master.log",
        "run.json",
        "cpu_samples.csv",
    ):
        assert (run_dir / name).is_file(), (
            f"{name} missing from {sorted(p.name for p in run_dir.iterdir())}"
        )
    for host in [fleet.role("master")[0], *fleet.role("worker")]:
        journal = run_dir / "journals" / f"{host['name']}.log"
        assert journal.is_file()
    workers = fleet.role("worker")
    assert (
        "locust-worker@1.service"
        in (run_dir / "journals" / f"{workers[0]['name']}.log").read_text()
    )


def test_run_json_describes_the_run(playbook_run, fleet):
    run_dir, _ = playbook_run
    record = json.loads((run_dir / "run.json").read_text())
    assert record["run_id"] == run_dir.name
    assert record["parameters"]["users"] == 50
    assert record["parameters"]["run_seconds"] == 20
    assert record["locust_version"] == "2.47.0"
    assert len(record["plan_manifest_sha256"]) == 64
    assert record["hosts"]["master"] == fleet.role("master")[0]["name"]
    assert sorted(record["hosts"]["workers"]) == sorted(h["name"] for h in fleet.role("worker"))
    assert record["workers_expected"] >= 2
    assert record["workers_connected"] == record["workers_expected"]
    assert record["master_exit_code"] == 0
    assert record["started_at"] < record["ended_at"]
    # Every host's clock, measured against the controller's before the start (the sandbox's
    # hosts share this machine's clock: a few ms of measurement at most).
    fleet_hosts = {h["name"] for h in fleet.hosts if h["role"] in ("master", "worker")}
    assert set(record["clock_offsets_ms"]) == fleet_hosts
    assert all(abs(ms) < 100 for ms in record["clock_offsets_ms"].values()), record


def test_requests_reached_the_target_without_failures(playbook_run):
    run_dir, _ = playbook_run
    lines = (run_dir / "locust_stats.csv").read_text().splitlines()
    aggregated = next(line for line in lines if ",Aggregated," in line).split(",")
    requests, failures = int(aggregated[2]), int(aggregated[3])
    assert requests > 100
    assert failures == 0


def test_progress_is_printed_while_the_test_runs(playbook_run):
    _, proc = playbook_run
    lines = [line for line in proc.stdout.splitlines() if "req/s" in line and "users" in line]
    assert len(lines) >= 2, proc.stdout[-3000:]
    assert "users 50/50" in proc.stdout


def test_cli_run_passes_checks_and_writes_reports_then_fails_a_strict_check(fleet, tmp_path):
    base = (
        "run",
        "-i",
        str(fleet.inventory),
        "--plan",
        "locustfiles/website",
        "-u",
        "20",
        "-r",
        "20",
        "-t",
        "10s",
        "--results",
        str(tmp_path),
    )
    passing = cli(*base, "--check", "fail_ratio<0.01", "--check", "p95<2000")
    assert passing.returncode == 0, passing.stderr[-3000:]
    (first,) = list(tmp_path.iterdir())
    for name in ("summary.md", "junit.xml", "charts.png"):
        assert (first / name).stat().st_size > 0
    assert (first / "charts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    suite = ET.parse(first / "junit.xml").getroot()
    names = [case.get("name", "") for case in suite.iter("testcase")]
    assert any("p95<2000" in name for name in names), names
    assert "running" in passing.stderr and "req/s" in passing.stderr
    strict = cli(*base, "--check", "p95<0.001")
    assert strict.returncode == 3, strict.stderr[-3000:]
    assert "check failed" in strict.stdout + strict.stderr
    second = next(p for p in tmp_path.iterdir() if p != first)
    compared = cli("compare", str(first), str(second))
    assert compared.returncode in (0, 3)
    assert "GET /" in compared.stdout and "p95" in compared.stdout


def test_a_file_added_to_a_hosts_plan_folder_is_removed_before_the_run(fleet, tmp_path):
    """A host whose plan holds a file the controller's does not is deployed again, not skipped."""
    worker = fleet.role("worker")[0]["name"]
    stray = "/opt/locust/plans/website/stray.py"
    fleet.ssh(worker, f"echo 'raise SystemExit(3)' > {stray}")
    proc = fleet.run(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert fleet.ssh(worker, f"test -e {stray}", check=False).returncode == 1
    manifests = {
        fleet.ssh(h["name"], "sha256sum < /opt/locust/plans/website.sha256").stdout
        for h in [fleet.role("master")[0], *fleet.role("worker")]
    }
    assert len(manifests) == 1  # every host holds the same plan


def test_a_plan_that_pins_the_workers_is_flagged_as_saturated(fleet, tmp_path):
    """15 s of CPU-bound users: the generators are the bottleneck, and the user is told."""
    proc = fleet.run(tmp_path, plan="tests/integration/plans/cpu_bound", users="4", run_time="15s")
    assert proc.returncode == 4, (proc.stdout + proc.stderr)[-3000:]
    assert "SATURATED" in proc.stdout + proc.stderr
    (run_dir,) = list(tmp_path.iterdir())
    assert "SATURATED: worker" in (run_dir / "summary.md").read_text()
    suite = ET.parse(run_dir / "junit.xml").getroot()
    failures = [f.get("type") for f in suite.iter("failure")]
    assert "GeneratorSaturated" in failures, failures
    header, *rows = (run_dir / "cpu_samples.csv").read_text().splitlines()
    assert header.endswith(",cpu_percent,wait_percent")
    waits = [row.rsplit(",", 1)[1] for row in rows if ",worker," in row]
    assert waits and all(w != "N/A" for w in waits)  # the hosts' kernels report run delay
