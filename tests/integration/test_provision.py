"""`locust-fleet provision` (playbooks/site.yml) needs no plan, and refuses bad input on
the controller before the first change on any host."""

from __future__ import annotations

from .conftest import RELEASE
from .sandbox_hosts import cli, flat


def _current_plans(fleet) -> dict[str, str]:
    return {
        h["name"]: fleet.ssh(h["name"], "readlink -f /opt/locust/plans/current").stdout.strip()
        for h in fleet.hosts
        if h["role"] in ("master", "worker")
    }


def test_every_host_runs_the_debian_release_the_session_asked_for(fleet):
    # The same suite runs on bookworm and on trixie (make integration-trixie).
    for host in fleet.hosts:
        codename = fleet.ssh(host["name"], ". /etc/os-release && echo $VERSION_CODENAME").stdout
        assert codename.strip() == RELEASE, host["name"]


def test_provision_without_a_plan_keeps_the_plan_the_fleet_runs(fleet, tmp_path):
    before = _current_plans(fleet)
    # A real plan is current (whichever an earlier test ran last), the same on every host.
    assert len(set(before.values())) == 1 and not next(iter(before.values())).endswith("/_idle")
    done = cli("provision", "-i", str(fleet.inventory))  # ships the idle plan beside it
    assert done.returncode == 0, done.stderr[-3000:]
    assert _current_plans(fleet) == before  # the idle plan never replaces a real one
    again = cli("provision", "-i", str(fleet.inventory))
    assert again.returncode == 0 and "(0 changed)" in again.stderr, again.stderr[-2000:]
    run = fleet.run(tmp_path / "results", users="2", run_time="3s")
    # Every worker connects and sends requests (none crash-loops on a missing package).
    # Exit 4 is an honest verdict, not a failure here: four workers on a two-core
    # sandbox can wait for a CPU in the first second of a 3 s run.
    assert run.returncode in (0, 4), run.stdout + run.stderr
    assert "Workers: 4 of 4 connected" in run.stdout, run.stdout + run.stderr


def test_bad_provisioning_input_is_refused_before_any_host_changes(fleet):
    refused = cli("provision", "-i", str(fleet.inventory), "-e", "locust_worker_processes=0")
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "locust_worker_processes" in flat(refused.stderr)
    assert "(0 changed)" in refused.stderr


def test_a_host_whose_python_is_too_old_is_refused_before_any_host_changes(fleet):
    # The same interpreter path on every host; on one worker it is an old Python.
    shim = "/usr/local/bin/lf-test-python"
    old = fleet.role("worker")[-1]["name"]
    for host in fleet.role("master") + fleet.role("worker"):
        body = (
            'case "$*" in *version_info*) echo 3.9;; *) exit 1;; esac'
            if host["name"] == old
            else 'exec /usr/bin/python3 "$@"'
        )
        fleet.ssh(host["name"], f"printf '#!/bin/sh\\n%s\\n' '{body}' > {shim} && chmod +x {shim}")
    try:
        refused = cli(
            "provision", "-i", str(fleet.inventory), "-e", f"locust_install_python={shim}"
        )
    finally:
        for host in fleet.role("master") + fleet.role("worker"):
            fleet.ssh(host["name"], f"rm -f {shim}")
    text = flat(refused.stderr)
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert f"host {old}: locust_install_python {shim} is Python 3.9" in text, text[-3000:]
    assert "needs Python 3.10 or later" in text and "point locust_install_python at it" in text
    assert "(0 changed)" in refused.stderr
