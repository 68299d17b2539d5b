"""Limits beyond CPU on the sandbox: a worker host that runs out of local ports, or a worker
process that runs out of open files, makes the run exit 4 with the host, the limit, the figure
and the fix; every setting changed here is put back."""

from __future__ import annotations

import contextlib
import csv
import json
import re

from .sandbox_hosts import flat

NARROW_PORTS = "60000 60039"  # 40 local ports
LOW_NOFILE = 64
MANY_CONNECTIONS = "tests/integration/plans/many_connections"
DROP_IN = "/run/systemd/system/locust-worker@.service.d/zz-test-nofile.conf"


def _run_dir(results):
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    return run_dir


def _restart_workers(fleet, host: str) -> None:
    proc = fleet.ssh(host, "systemctl daemon-reload && systemctl restart 'locust-worker@*.service'")
    assert proc.returncode == 0, proc.stderr


@contextlib.contextmanager
def _port_range(fleet, host: str, value: str):
    before = fleet.ssh(host, "sysctl -n net.ipv4.ip_local_port_range").stdout.split()
    set_it = fleet.ssh(host, f"sysctl -w net.ipv4.ip_local_port_range='{value}'")
    assert set_it.returncode == 0, set_it.stderr
    try:
        yield
    finally:
        fleet.ssh(host, f"sysctl -w net.ipv4.ip_local_port_range='{' '.join(before)}'")


@contextlib.contextmanager
def _worker_nofile(fleet, host: str, limit: int):
    folder = DROP_IN.rsplit("/", 1)[0]
    proc = fleet.ssh(
        host, f"mkdir -p {folder} && printf '[Service]\\nLimitNOFILE={limit}\\n' > {DROP_IN}"
    )
    assert proc.returncode == 0, proc.stderr
    _restart_workers(fleet, host)
    try:
        yield
    finally:
        fleet.ssh(host, f"rm -f {DROP_IN}")
        _restart_workers(fleet, host)


def test_a_worker_host_out_of_local_ports_exits_4_and_names_ports_and_host(fleet, tmp_path):
    worker = fleet.role("worker")[0]["name"]
    target = f"{fleet.role('target')[0]['ip']}:80"
    # 16 users a host fit 40 ports by count (the sizing preflight lets the run start), but
    # each user keeps six connections open: 96 toward the target on each worker host.
    with _port_range(fleet, worker, NARROW_PORTS):
        done = fleet.run(tmp_path, plan=MANY_CONNECTIONS, users="32", rate="32", run_time="8s")
    said = flat(done.stdout + done.stderr)
    assert done.returncode == 4, said[-3000:]
    named = re.compile(rf"{worker} used (3[89]|40) of 40 local ports toward {re.escape(target)}")
    assert named.search(said), said[-3000:]
    assert "widen net.ipv4.ip_local_port_range" in said
    summary = flat((_run_dir(tmp_path) / "summary.md").read_text())
    assert named.search(summary)
    # The requests that found no port never reached the target: counted apart.
    assert re.search(
        r"\d+ of these \d+ failures were the load generators' own \(EADDRNOTAVAIL", summary
    )


def test_a_worker_process_out_of_open_files_exits_4_and_names_the_process(fleet, tmp_path):
    worker = fleet.role("worker")[0]["name"]
    # 40 users a process with 64 files each fits by count (the sizing preflight reserves 50
    # files a process, so it would refuse that): run the plan of many connections instead.
    with _worker_nofile(fleet, worker, LOW_NOFILE):
        done = fleet.run(tmp_path, plan=MANY_CONNECTIONS, users="40", rate="40", run_time="8s")
    said = flat(done.stdout + done.stderr)
    assert done.returncode == 4, said[-3000:]
    assert f"{worker} used {LOW_NOFILE} of {LOW_NOFILE} open files in locust-worker@" in said, said[
        -3000:
    ]
    assert "locust_tuning_nofile" in said


def test_a_healthy_run_reports_the_limits_it_checked(fleet, tmp_path):
    done = fleet.run(tmp_path, users="10", rate="10", run_time="5s")
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = _run_dir(tmp_path)
    with (run_dir / "limits_samples.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    seen = {(r["host"], r["limit"]) for r in rows}
    for host in fleet.role("worker"):
        assert (host["name"], "open_files") in seen and (host["name"], "memory") in seen
    target = f"{fleet.role('target')[0]['ip']}:80"
    assert any(r["limit"] == "local_ports" and r["subject"] == target for r in rows), rows[:20]
    summary = flat((run_dir / "summary.md").read_text())
    assert "limits checked, highest share of each:" in summary
    assert "local ports" in summary and "open files" in summary


def test_users_above_half_a_hosts_port_range_start_with_a_caution(fleet, tmp_path):
    worker = fleet.role("worker")[0]["name"]
    hosts = len(fleet.role("worker"))
    # 30 users on the host, 40 ports: they fit (no refusal), at 75% of the range (a caution).
    # Other ports than the test above: its connections may still be in TIME_WAIT there.
    with _port_range(fleet, worker, "60100 60139"):
        done = fleet.run(tmp_path, users=str(30 * hosts), rate=str(30 * hosts), run_time="3s")
    said = flat(done.stdout + done.stderr)
    assert done.returncode == 0, said[-3000:]
    caution = (
        f"CAUTION: {worker}: 30 users take 75% of its local port range (60100-60139) toward "
        "the target"
    )
    assert caution in said, said[-3000:]
    assert "keep it under 20 per host" in said
    record = json.loads((_run_dir(tmp_path) / "run.json").read_text())
    (kept,) = record["cautions"]
    assert kept.startswith(f"{worker}: 30 users take 75%")
