"""The fleet from site.yml: workers up and hardened, one bounded run end to end,
the master port open to workers only, and a changed plan restarting the workers."""

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("locust_master")

PORT = 5557
RUN_DIR = "/var/lib/locust/runs/molecule"
STATE_DIR = "/var/lib/locust/state"
WORKERS = checks.hosts("locust_workers")


def worker_units(worker) -> dict[str, dict[str, str]]:
    count = int(worker.check_output("nproc"))
    return {
        f"locust-worker@{i}.service": checks.unit_properties(
            worker, f"locust-worker@{i}.service", "ActiveState", "SubState", "MainPID", "User"
        )
        for i in range(1, count + 1)
    }


def address(name: str) -> str:
    return checks.host_vars(name)["ansible_host"]


def test_every_worker_host_runs_one_worker_per_vcpu_as_locust(host):
    for name in WORKERS:
        worker = checks.host(name)
        for unit, props in worker_units(worker).items():
            assert (props["ActiveState"], props["SubState"]) == ("active", "running"), (
                f"{name} {unit}"
            )
            assert worker.process.get(pid=int(props["MainPID"])).user == "locust", f"{name} {unit}"
            soft, hard = checks.open_files_limit(worker, int(props["MainPID"]))
            assert soft == hard == checks.expected_nofile(worker), f"{name} {unit}"


def test_worker_units_are_hardened(host):
    for name in WORKERS:
        assert checks.exposure(checks.host(name), "locust-worker@1.service") <= 3.0, name


def test_master_unit_is_installed_not_started(host):
    props = checks.unit_properties(host, "locust-master.service", "UnitFileState", "ActiveState")
    assert props == {"UnitFileState": "static", "ActiveState": "inactive"}
    assert host.run("nft list table inet locust").rc == 0


@pytest.fixture
def run_config(host):
    """A tiny, bounded run config, as the run playbook renders one."""
    expected = sum(int(checks.host(name).check_output("nproc")) for name in WORKERS)
    target = address(checks.hosts("locust_targets")[0])
    conf = f"""\
locustfile = /opt/locust/plans/current/locustfile.py
master = true
master-bind-port = {PORT}
headless = true
host = http://{target}
users = 4
spawn-rate = 4
run-time = 10s
stop-timeout = 2
expect-workers = {expected}
expect-workers-max-wait = 60
csv = {RUN_DIR}/run
csv-full-history = true
html = {RUN_DIR}/report.html
json-file = {RUN_DIR}/stats
logfile = {RUN_DIR}/master.log
"""
    host.run("rm -rf %s", RUN_DIR)
    host.check_output("install -d -o locust -g locust -m 0750 %s", RUN_DIR)
    # The current run's state file, as a run writes it: the unit's ExecStopPost hook ends it.
    state = {"schema": 1, "phase": "running", "run": "molecule", "started": int(time.time())}
    host.check_output("install -o root -g root -m 0600 /dev/null %s/molecule.json", STATE_DIR)
    host.check_output("printf '%%s' %s > %s/molecule.json", json.dumps(state), STATE_DIR)
    host.check_output("printf 'molecule\\n' > %s/current", STATE_DIR)
    host.check_output("install -o root -g locust -m 0640 /dev/null /etc/locust/master.conf")
    host.check_output("printf '%%s' %s > /etc/locust/master.conf", conf)
    yield expected
    host.run("systemctl stop locust-master.service")
    host.run("rm -f /etc/locust/master.conf %s/current %s/molecule.json", STATE_DIR, STATE_DIR)


def test_a_bounded_run_works_end_to_end(host, run_config):
    master_address = address(host.backend.host)
    host.check_output("systemctl start locust-master.service")

    # While the run lasts, every worker process holds a connection to the master port.
    deadline = time.monotonic() + 60
    connected: dict[str, int] = {}
    while time.monotonic() < deadline:
        for name in WORKERS:
            out = checks.host(name).check_output(
                "ss -Htn state established '( dport = :%s )' dst %s", str(PORT), master_address
            )
            connected[name] = len(out.splitlines())
        if sum(connected.values()) >= run_config:
            break
        time.sleep(1)
    assert sum(connected.values()) >= run_config, connected
    assert all(count >= 1 for count in connected.values()), connected

    # Meanwhile the master port is open to a worker and closed to the target.
    assert checks.can_connect(checks.host(WORKERS[0]), master_address, PORT)
    assert not checks.can_connect(
        checks.host(checks.hosts("locust_targets")[0]), master_address, PORT
    )

    # The run stops by itself and succeeds.
    for _ in range(90):
        props = checks.unit_properties(
            host, "locust-master.service", "ActiveState", "Result", "ExecMainStatus"
        )
        if props["ActiveState"] in ("inactive", "failed"):
            break
        time.sleep(1)
    log = host.run("cat %s/master.log", RUN_DIR).stdout[-2000:]
    assert props == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}, log

    # The ExecStopPost hook recorded the end in the run's state file, keeping the rest.
    ended = json.loads(host.file(f"{STATE_DIR}/molecule.json").content_string)
    assert ended["phase"] == "ended", ended
    assert ended["exit"] == {"code": "exited", "status": 0, "result": "success"}, ended
    assert ended["run"] == "molecule" and ended["ended"] >= ended["started"], ended
    f = host.file(f"{STATE_DIR}/molecule.json")
    assert (f.user, f.group, f.mode) == ("root", "root", 0o600)

    for name in (
        "run_stats.csv",
        "run_stats_history.csv",
        "run_failures.csv",
        "run_exceptions.csv",
        "report.html",
        "stats.json",
    ):
        f = host.file(f"{RUN_DIR}/{name}")
        assert f.exists and f.user == "locust", name
    stats = host.file(f"{RUN_DIR}/run_stats.csv").content_string.splitlines()
    header = stats[0].split(",")
    row = next(line.split(",") for line in stats if ",Aggregated," in line)
    assert int(row[header.index("Request Count")]) > 0
    assert int(row[header.index("Failure Count")]) == 0


def test_a_changed_plan_restarts_the_workers(host, tmp_path):
    before = {name: worker_units(checks.host(name)) for name in WORKERS}
    plan = tmp_path / "plan"
    shutil.copytree(checks.PROJECT / "molecule" / "shared" / "plan", plan)
    with (plan / "locustfile.py").open("a") as handle:
        handle.write("\n# changed by the fleet scenario's verifier\n")

    done = checks.run_playbook(
        checks.PROJECT / "playbooks" / "site.yml", "-e", f"locust_testplan_src={plan}"
    )
    assert done.returncode == 0, done.stdout[-3000:]

    for name in WORKERS:
        worker = checks.host(name)
        assert worker.file("/opt/locust/plans/current/locustfile.py").contains(
            "changed by the fleet scenario"
        )
        after = worker_units(worker)
        for unit, props in after.items():
            assert props["SubState"] == "running", f"{name} {unit}"
            assert props["MainPID"] != before[name][unit]["MainPID"], (
                f"{name} {unit} was not restarted"
            )
