"""locust_master: a hardened unit that is installed but not started, its end-of-run hook,
and a port filter."""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("locust_master")
PORT = 5557


def test_unit_is_installed_but_neither_enabled_nor_running(host):
    props = checks.unit_properties(
        host, "locust-master.service", "LoadState", "UnitFileState", "ActiveState"
    )
    # No [Install] section: "static", so it cannot be enabled by accident.
    assert props == {"LoadState": "loaded", "UnitFileState": "static", "ActiveState": "inactive"}


def test_unit_runs_one_test_per_start_from_the_run_config(host):
    props = checks.unit_properties(
        host,
        "locust-master.service",
        "ExecStart",
        "User",
        "Restart",
        "WorkingDirectory",
        "ReadWritePaths",
        "Requires",
    )
    assert "/opt/locust/venv/bin/locust --config /etc/locust/master.conf" in props["ExecStart"]
    assert props["User"] == "locust"
    assert props["Restart"] == "no"
    assert props["WorkingDirectory"] == "/opt/locust/plans/current"
    assert props["ReadWritePaths"] == "/var/lib/locust"
    assert "locust-firewall.service" in props["Requires"]


def test_unit_records_the_end_of_each_run_with_a_root_hook(host):
    props = checks.unit_properties(host, "locust-master.service", "ExecStopPost")
    assert (
        "argv[]=/usr/bin/python3 /opt/locust/bin/locust-run-ended.py"
        " --state-dir=/var/lib/locust/state" in props["ExecStopPost"]
    ), props
    # "+": the hook runs as root, outside the unit's sandbox (the state folder is root's).
    unit = host.file("/etc/systemd/system/locust-master.service").content_string
    assert "ExecStopPost=+/usr/bin/python3 /opt/locust/bin/locust-run-ended.py" in unit
    hook = host.file("/opt/locust/bin/locust-run-ended.py")
    assert (hook.user, hook.group, hook.mode) == ("root", "root", 0o755)
    for folder in ("/opt/locust/bin", "/var/lib/locust/state"):
        f = host.file(folder)
        assert f.is_directory and (f.user, f.group, f.mode) == ("root", "root", 0o755), folder
    # The host's Python runs it; with no current run it records nothing and exits 0.
    done = host.run(
        "/usr/bin/python3 /opt/locust/bin/locust-run-ended.py --state-dir=/var/lib/locust/state"
    )
    assert done.rc == 0 and "no current run" in done.stderr, done.stderr


def test_unit_is_hardened(host):
    props = checks.unit_properties(host, "locust-master.service", *checks.HARDENING)
    assert checks.hardening_gaps(props) == {}
    assert checks.exposure(host, "locust-master.service") <= 3.0


def test_port_filter_is_loaded_now_and_at_boot(host):
    props = checks.unit_properties(host, "locust-firewall.service", "ActiveState", "UnitFileState")
    assert props == {"ActiveState": "active", "UnitFileState": "enabled"}
    table = host.check_output("nft list table inet locust")
    worker = checks.host_vars("worker1")["ansible_host"]
    assert worker in table
    assert f"tcp dport {PORT} counter" in table and "drop" in table


def test_other_tables_are_left_alone(host):
    # prepare added table inet keepme before the role ran.
    assert host.run("nft list table inet keepme").rc == 0


@pytest.fixture
def listener(host):
    """Something listening on the master port, as a running master would."""
    host.check_output(
        "systemd-run --unit=lf-probe-%s --collect python3 -m http.server %s --bind 0.0.0.0",
        str(PORT),
        str(PORT),
    )
    for _ in range(50):
        if host.socket(f"tcp://0.0.0.0:{PORT}").is_listening:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the probe listener did not start")
    yield
    host.run("systemctl stop lf-probe-%s.service", str(PORT))


def test_worker_can_reach_the_master_port_and_the_target_cannot(host, listener):
    master = checks.host_vars(host.backend.host)["ansible_host"]
    assert checks.can_connect(checks.host("worker1"), master, PORT)
    assert not checks.can_connect(checks.host("target"), master, PORT)
    # The filter is about the master port only.
    assert checks.can_connect(checks.host("target"), master, 22)
