"""Bad input and an unfit fleet are refused before anything starts: exit 2, a message that
names the problem and the fix, and the hosts exactly as they were."""

from __future__ import annotations

import copy
import shutil
import time

import pytest
import yaml

from .sandbox_hosts import REPO, cli, flat

SYNTAX_ERROR = "from locust import HttpUser\nclass Broken(HttpUser)\n    pass\n"
NO_USER = "from locust import HttpUser\n\nVALUE = 1\n"


def fingerprint(fleet) -> dict[str, str]:
    """What a started run would change: run folders, the master's and workers' start times."""
    state = {}
    for host in fleet.hosts:
        if host["role"] == "target":
            continue
        state[host["name"]] = fleet.ssh(
            host["name"],
            "ls /var/lib/locust/runs; systemctl show --value -p ExecMainStartTimestamp "
            "locust-master.service 'locust-worker@*.service' 2>/dev/null",
        ).stdout
    return state


@pytest.fixture(scope="module")
def before(fleet):
    """The fleet at rest: after a run, its workers quit and systemd restarts them."""
    seen = fingerprint(fleet)
    for _ in range(10):
        time.sleep(8)
        now = fingerprint(fleet)
        if now == seen:
            return now
        seen = now
    raise AssertionError(f"the fleet never came to rest: {seen}")


def _run(
    fleet,
    tmp_path,
    *args,
    inventory=None,
    plan="locustfiles/website",
    users="5",
    rate="5",
    run_time="5s",
    results=None,
):
    return cli(
        "run",
        "-i",
        str(inventory or fleet.inventory),
        "--plan",
        str(plan),
        "-u",
        users,
        "-r",
        rate,
        "-t",
        run_time,
        "--results",
        str(results or tmp_path / "results"),
        *args,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("users", "0", "locust_users must be a whole number above 0"),
        ("users", "-1", "locust_users must be a whole number above 0"),
        ("users", "abc", "locust_users must be a whole number above 0"),
        ("rate", "0", "locust_spawn_rate must be a number above 0"),
        ("run_time", "10x", "is not a duration above 0"),
    ],
)
def test_bad_numbers_are_refused(fleet, before, tmp_path, field, value, message):
    proc = _run(fleet, tmp_path, **{field: value})
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in flat(proc.stderr)
    assert "e.g." in flat(proc.stderr)  # the fix, by example
    assert fingerprint(fleet) == before


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "is not a plan folder or a .py locustfile"),
        (SYNTAX_ERROR, "cannot be used: SyntaxError"),
        (NO_USER, "cannot be used"),
    ],
)
def test_unusable_plans_are_refused(fleet, before, tmp_path, source, message):
    plan = tmp_path / "plan"
    if source is not None:
        plan.mkdir()
        (plan / "locustfile.py").write_text(source)
    proc = _run(fleet, tmp_path, plan=plan)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in flat(proc.stderr)
    assert fingerprint(fleet) == before


def _inventory_variant(fleet, tmp_path, change) -> str:
    data = yaml.safe_load(fleet.inventory.read_text())
    variant = copy.deepcopy(data)
    change(variant["all"]["children"])
    path = tmp_path / "variant.yml"
    path.write_text(yaml.safe_dump(variant))
    return str(path)


def _no_master(children):
    children["locust_master"]["hosts"] = {}


def _two_masters(children):
    children["locust_master"]["hosts"].update(children["locust_targets"]["hosts"])


def _no_workers(children):
    children["locust_workers"]["hosts"] = {}


@pytest.mark.parametrize("change", [_no_master, _two_masters, _no_workers])
def test_inventory_shape_is_refused(fleet, before, tmp_path, change):
    proc = _run(fleet, tmp_path, inventory=_inventory_variant(fleet, tmp_path, change))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "needs exactly one host in group locust_master" in flat(proc.stderr)
    assert fingerprint(fleet) == before


def test_unwritable_results_folder_is_refused(fleet, before, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = _run(fleet, tmp_path, results=blocker / "results")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "cannot be written" in flat(proc.stderr) and "locust_results_dir" in flat(proc.stderr)
    assert fingerprint(fleet) == before


def test_unreachable_worker_host_is_refused_by_name(fleet, before, tmp_path):
    ghost_ip = fleet.hosts[0]["ip"].rsplit(".", 1)[0] + ".99"  # on our bridge, no host there

    def add_ghost(children):
        children["locust_workers"]["hosts"]["ghost-worker"] = {"ansible_host": ghost_ip}

    proc = _run(fleet, tmp_path, inventory=_inventory_variant(fleet, tmp_path, add_ghost))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Cannot reach ghost-worker over SSH" in flat(proc.stderr)
    assert fingerprint(fleet) == before


def test_plan_edited_on_one_host_is_refused_naming_host_file_and_hashes(fleet, before, tmp_path):
    worker = fleet.role("worker")[1]["name"]
    path = "/opt/locust/plans/current/locustfile.py"
    original = fleet.ssh(worker, f"cat {path}").stdout
    fleet.ssh(worker, f"echo '# edited by hand' >> {path}")
    try:
        proc = _run(fleet, tmp_path)
    finally:
        fleet.ssh(worker, f"cat > {path} <<'EOF'\n{original}EOF")
    assert proc.returncode == 2, proc.stderr[-2000:]
    text = flat(proc.stderr)
    assert f"host {worker}: locustfile.py sha256" in text
    assert "differs from the controller's" in text
    assert fingerprint(fleet) == before


PLAN_IMPORTING = """import {module}
from locust import HttpUser, task


class Visitor(HttpUser):
    @task
    def home(self):
        self.client.get("/")
"""


@pytest.mark.parametrize(
    ("requirements", "message"),
    [
        (None, "No module named 'faker'. Pin the package that provides faker in requirements.txt"),
        ("Faker>=30\n", "line 1: 'Faker>=30' is not an exact pin"),
        ("locust==2.20.0\nFaker==30.8.2\n", "line 1: 'locust==2.20.0' pins Locust itself"),
    ],
)
def test_a_plan_dependency_that_is_missing_or_not_pinned_is_refused_naming_it(
    fleet, before, tmp_path, requirements, message
):
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "locustfile.py").write_text(PLAN_IMPORTING.format(module="faker"))
    if requirements is not None:
        (plan / "requirements.txt").write_text(requirements)
    proc = _run(fleet, tmp_path, plan=plan)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in flat(proc.stderr)
    assert "Nothing was started" in flat(proc.stderr)
    assert fingerprint(fleet) == before


def test_a_plan_pin_that_would_replace_a_package_of_locusts_is_refused_naming_it(
    fleet, before, tmp_path
):
    worker = fleet.role("worker")[0]["name"]
    venv_pip = "/opt/locust/venv/bin/python -m pip"
    have = fleet.ssh(worker, f"{venv_pip} show requests | sed -n 's/^Version: //p'").stdout.strip()
    other = "2.32.3" if have != "2.32.3" else "2.32.2"
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "locustfile.py").write_text(PLAN_IMPORTING.format(module="requests"))
    (plan / "requirements.txt").write_text(f"requests=={other}\n")
    current = fleet.ssh(worker, "readlink -f /opt/locust/plans/current").stdout
    proc = _run(fleet, tmp_path, plan=plan)
    assert proc.returncode == 2, proc.stderr[-2000:]
    text = flat(proc.stderr)
    assert f"requests=={other} would replace requests {have}, which Locust" in text, text[-2000:]
    assert f"pin requests=={have}" in text
    # The venv, the current plan and the workers are as they were; the fleet is free again.
    assert fleet.ssh(worker, f"{venv_pip} show requests").stdout.count(f"Version: {have}") == 1
    assert fleet.ssh(worker, "readlink -f /opt/locust/plans/current").stdout == current
    assert fingerprint(fleet) == before
    master = fleet.role("master")[0]["name"]
    # A released claim file is empty: nobody holds the fleet.
    holder = fleet.ssh(master, "cat /run/locust-fleet/claim.json", check=False).stdout
    assert holder.strip() == "", holder


def test_a_host_clock_further_off_than_allowed_is_refused(fleet, before, tmp_path):
    # The sandbox's hosts share this machine's clock: a limit of 0 ms is below any offset
    # the preflight measures, so every host is named.
    proc = _run(fleet, tmp_path, "--max-clock-offset", "0")
    assert proc.returncode == 2, proc.stderr[-2000:]
    text = flat(proc.stderr)
    worker = fleet.role("worker")[0]["name"]
    assert f"{worker}: its clock is " in text, text[-2000:]
    assert "more than locust_run_max_clock_offset (0.0 ms)" in text
    assert "chrony or systemd-timesyncd" in text
    assert fingerprint(fleet) == before


def test_more_users_than_the_fleets_open_files_can_hold_are_refused_with_the_sizing(
    fleet, before, tmp_path
):
    # 2 worker hosts x 2 processes, 20000 open files each in the sandbox's containers.
    proc = _run(fleet, tmp_path, users="100000", rate="1000", run_time="30s")
    assert proc.returncode == 2, proc.stderr[-2000:]
    text = flat(proc.stderr)
    assert "100000 users need at least 6 worker processes at 20000 open files each" in text, text[
        -2000:
    ]
    assert "the fleet has 4: set locust_worker_processes or add hosts" in text
    assert fingerprint(fleet) == before


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("run-time=1h", "'run-time' is set by the fleet itself (from -t / locust_run_time)"),
        ("csv=/etc/locust/stolen", "'csv' is set by the fleet itself"),
    ],
)
def test_a_plan_argument_cannot_override_the_fleets_own_options(
    fleet, before, tmp_path, arg, message
):
    proc = _run(fleet, tmp_path, "--arg", arg)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in flat(proc.stderr)
    assert fingerprint(fleet) == before


@pytest.mark.parametrize("kind", ["link", "venv"])
def test_a_plan_with_a_link_or_a_virtualenv_is_refused_not_shipped_in_part(
    fleet, before, tmp_path, kind
):
    plan = tmp_path / "plan"
    shutil.copytree(REPO / "locustfiles" / "website", plan)
    if kind == "link":
        (plan / "users.csv").symlink_to("/etc/hostname")
        message = "plan's users.csv is a symbolic link (to /etc/hostname): links are not shipped"
    else:
        (plan / "venv" / "bin").mkdir(parents=True)
        (plan / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        message = "the plan holds venv/, a virtualenv or node_modules folder"
    proc = _run(fleet, tmp_path, plan=plan)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in flat(proc.stderr)
    assert fingerprint(fleet) == before
