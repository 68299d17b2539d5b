"""locust_worker: hardened instances running as locust, surplus ones stopped."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("locust_workers")


def test_the_wanted_instance_runs_as_locust(host):
    props = checks.unit_properties(
        host, "locust-worker@1.service", "ActiveState", "SubState", "MainPID", "UnitFileState"
    )
    assert (props["ActiveState"], props["SubState"], props["UnitFileState"]) == (
        "active",
        "running",
        "enabled",
    )
    proc = host.process.get(pid=int(props["MainPID"]))
    assert proc.user == "locust"
    assert "--worker" in proc.args


def test_surplus_instance_is_stopped_and_disabled(host):
    # side_effect lowered locust_worker_processes from 2 to 1.
    props = checks.unit_properties(host, "locust-worker@2.service", "ActiveState", "UnitFileState")
    assert props["ActiveState"] == "inactive"
    assert props["UnitFileState"] != "enabled"


def test_worker_points_at_the_master_host_and_port(host):
    master_address = checks.host_vars(checks.hosts("locust_master")[0])["ansible_host"]
    exec_start = checks.unit_properties(host, "locust-worker@1.service", "ExecStart")["ExecStart"]
    assert f"--master-host {master_address} --master-port 5557" in exec_start
    assert "-f /opt/locust/plans/current/locustfile.py" in exec_start


def test_open_file_limit_is_the_clamped_value(host):
    pid = int(checks.unit_properties(host, "locust-worker@1.service", "MainPID")["MainPID"])
    soft, hard = checks.open_files_limit(host, pid)
    expected = checks.expected_nofile(host)
    assert (soft, hard) == (expected, expected)


def test_unit_is_hardened(host):
    props = checks.unit_properties(
        host, "locust-worker@1.service", *checks.HARDENING, "User", "Restart"
    )
    assert checks.hardening_gaps(props) == {}
    assert props["User"] == "locust"
    assert props["Restart"] == "always"


def test_systemd_analyze_security_exposure_is_at_most_3(host):
    assert checks.exposure(host, "locust-worker@1.service") <= 3.0


def test_worker_gets_the_run_secrets_from_etc_locust_secrets_env(host):
    host.check_output("install -o root -g locust -m 0640 /dev/null /etc/locust/secrets.env")
    host.check_output("echo TARGET_TOKEN=molecule-secret > /etc/locust/secrets.env")
    try:
        host.check_output("systemctl restart locust-worker@1.service")
        pid = checks.unit_properties(host, "locust-worker@1.service", "MainPID")["MainPID"]
        # Until systemd's forked child has exec'd Locust, /proc/<pid>/environ is systemd's own.
        for _ in range(50):
            if "--worker" in host.file(f"/proc/{pid}/cmdline").content_string:
                break
            time.sleep(0.1)
        environ = host.check_output("tr '\\0' '\\n' < /proc/%s/environ", pid).splitlines()
        assert "TARGET_TOKEN=molecule-secret" in environ
    finally:
        host.run("rm -f /etc/locust/secrets.env")
        host.run("systemctl restart locust-worker@1.service")
