"""`locust-fleet provision` (playbooks/site.yml) needs no plan, and refuses bad input on
the controller before the first change on any host."""

from __future__ import annotations

from .sandbox_hosts import cli, flat


def _current_plans(fleet) -> dict[str, str]:
    return {
        h["name"]: fleet.ssh(h["name"], "readlink -f /opt/locust/plans/current").stdout.strip()
        for h in fleet.hosts
        if h["role"] in ("master", "worker")
    }


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
    assert run.returncode == 0, run.stdout + run.stderr


def test_bad_provisioning_input_is_refused_before_any_host_changes(fleet):
    refused = cli("provision", "-i", str(fleet.inventory), "-e", "locust_worker_processes=0")
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "locust_worker_processes" in flat(refused.stderr)
    assert "(0 changed)" in refused.stderr
