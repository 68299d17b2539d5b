"""A sandbox of its own: errors, crash recovery, and a down that leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from .sandbox_hosts import CLI, SandboxHosts, cli

NAME = "lc"
STATE = Path("/var/lib/locust-fleet/sandbox") / NAME


def _nothing_left(pids: list[int]) -> list[str]:
    left = []
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[1][0] != "Z":
            left.append(f"process {pid}")
    left += [line for line in Path("/proc/mounts").read_text().splitlines() if str(STATE) in line]
    left += [
        link
        for link in os.listdir("/sys/class/net")
        if link == f"lfbr-{NAME}" or link.startswith(f"vb-{NAME}-")
    ]
    if STATE.exists():
        left.append(str(STATE))
    return left


def test_lifecycle_recovers_from_a_crash_and_down_leaves_nothing(tmp_path, sandbox):
    inventory = tmp_path / "hosts.yml"
    started = time.monotonic()
    lab = SandboxHosts.up(NAME, workers=1, inventory=inventory)
    cold_boot = time.monotonic() - started
    try:
        assert cold_boot < 30, f"cold boot of 3 hosts took {cold_boot:.1f}s"
        assert inventory.exists()
        assert [h["role"] for h in lab.hosts] == ["master", "target", "worker"]
        # A crash: the worker's nspawn process dies without powering its container off.
        state = json.loads((STATE / "state.json").read_text())
        worker = next(h for h in state["hosts"] if h["role"] == "worker")
        os.kill(worker["pid"], signal.SIGKILL)
        time.sleep(0.5)
        assert cli("sandbox", "status", "--name", NAME, "--json").returncode == 1
        recovered = SandboxHosts.up(NAME, workers=1, inventory=inventory)
        assert all(h["ssh"] for h in recovered.hosts)
        recovered.ssh(f"{NAME}-worker1", "systemctl is-system-running")
        pids = [h["pid"] for h in recovered.hosts] + [worker["pid"], worker["leader"]]
    finally:
        down = lab.down()
    assert down.returncode == 0, down.stderr
    assert _nothing_left(pids) == []
    assert not inventory.exists()


def test_address_range_in_use_is_refused_with_the_fix(tmp_path, sandbox):
    taken = sandbox.hosts[0]["ip"].rsplit(".", 1)[0] + ".0/24"
    proc = cli(
        "sandbox", "up", "--name", "x1", "--subnet", taken, "--inventory", str(tmp_path / "h.yml")
    )
    assert proc.returncode == 2
    assert f"address range {taken} is already in use" in proc.stderr
    assert "--subnet" in proc.stderr
    assert not Path("/sys/class/net/lfbr-x1").exists()


def test_bad_name_and_worker_count_are_refused():
    bad_name = cli("sandbox", "up", "--name", "Bad_Name")
    assert bad_name.returncode == 2
    assert "1-3 lowercase letters" in bad_name.stderr
    too_many = cli("sandbox", "up", "--name", "x2", "--workers", "0")
    assert too_many.returncode == 2
    assert "--workers must be between 1 and" in too_many.stderr


def test_without_root_the_error_says_to_run_as_root():
    proc = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            CLI,
            "sandbox",
            "up",
            "--name",
            "x3",
        ],
        capture_output=True,
        text=True,
        cwd="/tmp",
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "needs root" in proc.stderr
