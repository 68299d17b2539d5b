"""The sandbox hosts behave like real servers that Ansible reaches over SSH."""

from __future__ import annotations

import json
import time

from .sandbox_hosts import cli


def test_every_host_answers_ansible_ping_over_ssh(sandbox):
    proc = sandbox.ansible("all", "-m", "ansible.builtin.ping", "-o")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host in sandbox.hosts:
        assert f"{host['name']} | SUCCESS" in proc.stdout


def test_inventory_has_the_fleet_groups_and_the_target_url(sandbox):
    proc = sandbox.ansible("localhost", "-m", "ansible.builtin.debug", "-a", "var=groups", "-o")
    assert proc.returncode == 0, proc.stderr
    groups = json.loads(proc.stdout.split("=>", 1)[1])["groups"]
    assert groups["locust_master"] == [f"{sandbox.name}-master"]
    assert groups["locust_workers"] == [f"{sandbox.name}-worker1", f"{sandbox.name}-worker2"]
    assert groups["locust_targets"] == [f"{sandbox.name}-target"]
    url = sandbox.ansible(
        "locust_master", "-m", "ansible.builtin.debug", "-a", "var=locust_target_url", "-o"
    )
    assert f"http://{sandbox.role('target')[0]['ip']}" in url.stdout


def test_systemd_is_pid_1_and_the_boot_finished(sandbox):
    for host in sandbox.hosts:
        # "degraded" only means a unit failed (a test may have killed Locust); the boot is done.
        proc = sandbox.ssh(
            host["name"], "cat /proc/1/comm; systemctl is-system-running", check=False
        )
        comm, state = proc.stdout.split()
        assert comm == "systemd", (host["name"], proc.stdout)
        assert state in ("running", "degraded"), (host["name"], proc.stdout)


def test_target_nginx_answers_from_a_worker_host(sandbox):
    target = sandbox.role("target")[0]["ip"]
    worker = sandbox.role("worker")[0]["name"]
    for path, expected in (("/", "Welcome"), ("/about", "About us"), ("/api/items", "anvil")):
        proc = sandbox.ssh(worker, f"curl -fsS --max-time 5 http://{target}{path}")
        assert expected in proc.stdout, (path, proc.stdout)


def test_no_host_has_a_default_route(sandbox):
    for host in sandbox.hosts:
        proc = sandbox.ssh(host["name"], "ip -4 route show default; ip -6 route show default")
        assert proc.stdout.strip() == "", (host["name"], proc.stdout)


def test_up_again_is_quick_and_keeps_the_running_hosts(sandbox):
    started = time.monotonic()
    proc = cli(
        "sandbox",
        "up",
        "--name",
        sandbox.name,
        "--workers",
        "2",
        "--inventory",
        str(sandbox.inventory),
        "--json",
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 10, f"an up with everything running took {elapsed:.1f}s"
    hosts = json.loads(proc.stdout)["hosts"]
    assert all(h["ssh"] for h in hosts)
    assert {h["name"]: h["pid"] for h in hosts} == {h["name"]: h["pid"] for h in sandbox.hosts}
