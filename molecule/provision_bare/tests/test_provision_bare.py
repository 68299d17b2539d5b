"""site.yml with no plan: the idle plan is current, the workers wait connected to
nothing, a real plan is never replaced by the idle one, tags select one role, and
teardown with purge leaves no table, unit, file or user of ours. The tests run in
file order; the last one purges the fleet."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("locust_master")

FLEET = checks.hosts("locust_master") + checks.hosts("locust_workers")
WORKERS = checks.hosts("locust_workers")
SITE = checks.PROJECT / "playbooks" / "site.yml"
PLAN = checks.PROJECT / "molecule" / "shared" / "plan"
UNITS = ["locust-worker@1.service", "locust-worker@2.service"]


def test_the_idle_plan_is_current_and_verified_everywhere(host):
    for name in FLEET:
        h = checks.host(name)
        assert h.file("/opt/locust/plans/current").linked_to == "/opt/locust/plans/_idle", name
        assert h.run("cd /opt/locust/plans/_idle && sha256sum -c ../_idle.sha256").rc == 0, name
        assert h.file("/opt/locust/plans/_idle/locustfile.py").contains("class Idle")


def test_the_workers_wait_idle_connected_to_nothing(host):
    time.sleep(10)
    for name in WORKERS:
        worker = checks.host(name)
        for unit in UNITS:
            props = checks.unit_properties(worker, unit, "ActiveState", "SubState", "NRestarts")
            assert props == {"ActiveState": "active", "SubState": "running", "NRestarts": "0"}, (
                f"{name} {unit}"
            )
        out = worker.check_output("ss -Htn state established '( dport = :5557 )'")
        assert out.strip() == "", f"{name}: {out}"


def test_the_master_unit_records_the_end_of_each_run(host):
    unit = host.file("/etc/systemd/system/locust-master.service")
    assert (
        "ExecStopPost=+/usr/bin/python3 /opt/locust/bin/locust-run-ended.py" in unit.content_string
    )
    assert "--state-dir=/var/lib/locust/state" in unit.content_string
    hook = host.file("/opt/locust/bin/locust-run-ended.py")
    assert (hook.user, hook.group, hook.mode) == ("root", "root", 0o755)
    for folder in ("/opt/locust/bin", "/var/lib/locust/state"):
        f = host.file(folder)
        assert f.is_directory and (f.user, f.group, f.mode) == ("root", "root", 0o755), folder


def test_a_tag_runs_one_role_alone(host):
    done = checks.run_playbook(SITE, "--tags", "locust_tuning")
    assert done.returncode == 0, done.stdout[-3000:]
    tasks = [line for line in done.stdout.splitlines() if line.startswith("TASK [")]
    wrote = "locust_tuning : Write the Locust kernel settings and open-file limits files"
    assert any(wrote in t for t in tasks)
    # Besides the tuning, only the checks on localhost and the roles' argument specs run.
    others = [
        t
        for t in tasks
        if "locust_tuning : " not in t
        and "Validating arguments" not in t
        and not any(
            step in t
            for step in (
                "Check that there is one master",
                "Check every host's settings",
                "Check that every host pins",
                "Check that every path and name",
                "Check the test plan on the controller",
                "locust_testplan : Look at the plan on the controller",
                "locust_testplan : Check that the plan exists",
                "locust_testplan : List and hash the files",
                "locust_testplan : Check the plan name",
                "locust_testplan : Read the plan on the controller and hash its files",
                "locust_testplan : Read the plan's requirements.txt on the controller",
                # site.yml's check of every host's Python, before any host changes
                "Read the version of the host Python",
                "Check that the host Python can run",
                "Remember that this host Python passed",
                "Gathering Facts",
            )
        )
    ]
    assert others == [], others
    assert all(v["changed"] == 0 for v in checks.recap(done.stdout).values()), done.stdout[-2000:]


def test_a_real_plan_is_never_replaced_by_the_idle_one(host):
    shipped = checks.run_playbook(SITE, "-e", f"locust_testplan_src={PLAN}")
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    again = checks.run_playbook(SITE)
    assert again.returncode == 0, again.stdout[-3000:]
    assert all(v["changed"] == 0 for v in checks.recap(again.stdout).values()), again.stdout[-3000:]
    for name in FLEET:
        current = checks.host(name).file("/opt/locust/plans/current")
        assert current.linked_to == "/opt/locust/plans/plan", name


def test_teardown_with_purge_leaves_nothing_of_ours(host):
    # What interactive mode leaves on the master: its table and files under ui/.
    host.check_output("nft add table inet locust_ui")
    host.check_output("install -d /opt/locust/ui && touch /opt/locust/ui/locust-ui.nft")
    host.check_output("nft add table inet keepme")

    teardown = checks.PROJECT / "playbooks" / "teardown.yml"
    done = checks.run_playbook(teardown, "-e", "locust_run_purge=true")
    assert done.returncode == 0, done.stdout[-3000:]

    for name in FLEET:
        h = checks.host(name)
        tables = h.check_output("nft list tables")
        assert "inet locust\n" not in tables + "\n" and "inet locust_ui" not in tables, name
        units = h.run("ls /etc/systemd/system /etc/systemd/system/*.wants | grep -i locust").stdout
        assert units == "", f"{name}: {units}"
        # systemd may still remember a removed instance for a moment (not-found, dead):
        # nothing on disk, nothing running. Anything else is a leftover.
        loaded = h.check_output("systemctl list-units --all --plain --no-legend 'locust*'")
        leftovers = [
            u for u in loaded.splitlines() if u.split()[1:4] != ["not-found", "inactive", "dead"]
        ]
        assert leftovers == [], f"{name}: {loaded}"
        for path in (
            "/opt/locust",
            "/etc/locust",
            "/var/lib/locust",
            "/etc/sysctl.d/60-locust.conf",
            "/etc/security/limits.d/60-locust.conf",
            "/etc/nftables.d/locust.nft",
        ):
            assert not h.file(path).exists, f"{name}: {path}"
        assert not h.user("locust").exists, name
        assert not h.group("locust").exists, name
    assert "inet keepme" in host.check_output("nft list tables")

    # A second purge finds nothing to do.
    again = checks.run_playbook(teardown, "-e", "locust_run_purge=true")
    assert again.returncode == 0, again.stdout[-3000:]
    assert all(v["changed"] == 0 for v in checks.recap(again.stdout).values()), again.stdout[-3000:]
