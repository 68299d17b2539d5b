"""The fleet is locked down: the master's port only for workers, no web UI in headless runs,
services as `locust` and hardened."""

from __future__ import annotations

import re

import pytest

from .sandbox_hosts import stop

PORT = 5557


@pytest.fixture(scope="module")
def running(fleet, tmp_path_factory):
    """A 20 s run in the background; the tests look at the fleet while it goes."""
    results = tmp_path_factory.mktemp("results")
    run = fleet.start_run(results, users="10", rate="10", run_time="20s")
    proc = run.proc
    fleet.wait_until_running(proc, run.before)
    yield fleet
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        stop(proc)
    assert proc.returncode == 0, (out + err)[-3000:]


def test_master_port_is_open_to_workers_only(running):
    master_ip = running.role("master")[0]["ip"]
    for worker in running.role("worker"):
        assert running.connects(worker["name"], master_ip, PORT), worker["name"]
    assert not running.connects(running.role("target")[0]["name"], master_ip, PORT)
    table = running.ssh(running.role("master")[0]["name"], "nft list table inet locust").stdout
    assert f"tcp dport {PORT}" in table


def test_no_web_ui_listens_in_a_headless_run(running):
    master = running.role("master")[0]["name"]
    listening = running.ssh(master, "ss -Hltn").stdout
    ports = {int(m) for m in re.findall(r":(\d+)\s", listening)}
    assert PORT in ports
    assert 8089 not in ports


def test_services_run_as_locust_never_root(running):
    master = running.role("master")[0]["name"]
    users = running.ssh(
        master, "ps -o user= -p $(systemctl show -p MainPID --value locust-master.service)"
    ).stdout.split()
    assert users == ["locust"]
    for worker in running.role("worker"):
        out = running.ssh(
            worker["name"],
            "for u in $(systemctl list-units --plain --no-legend "
            "'locust-worker@*' | cut -d' ' -f1); do ps -o user= "
            "-p $(systemctl show -p MainPID --value $u); done",
        ).stdout
        assert out.split() and set(out.split()) == {"locust"}, (worker["name"], out)


@pytest.mark.parametrize("unit", ["locust-master.service", "locust-worker@1.service"])
def test_units_are_hardened_to_exposure_3_or_lower(fleet, unit):
    host = fleet.role("master" if "master" in unit else "worker")[0]["name"]
    out = fleet.ssh(host, f"systemd-analyze security --no-pager {unit} | tail -n 1").stdout
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert match, out
    assert float(match.group(1)) <= 3.0, out
