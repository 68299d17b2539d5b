"""The master's port filter holds by itself: flushed since site.yml (by hand, another firewall
tool, a reload of nftables.service), it is back before the next run's master starts, and it
admits the inventory's workers of that run only (a worker removed since site.yml loses its
access). A module of its own: test_security's runs keep the fleet busy while its tests look
at it."""

from __future__ import annotations

import subprocess

import yaml

from .sandbox_hosts import REPO

PORT = 5557


def test_a_port_filter_flushed_since_site_yml_is_restored_at_the_next_start(fleet, tmp_path):
    master = fleet.role("master")[0]["name"]
    flushed = fleet.ssh(master, "nft delete table inet locust")
    assert flushed.returncode == 0, flushed.stderr
    done = fleet.run(tmp_path, users="4", rate="4", run_time="3s")
    assert done.returncode == 0, done.stderr[-3000:]
    table = fleet.ssh(master, "nft list table inet locust")
    assert table.returncode == 0 and f"tcp dport {PORT} counter" in table.stdout
    assert not fleet.connects(fleet.role("target")[0]["name"], fleet.role("master")[0]["ip"], PORT)


def test_a_worker_removed_from_the_inventory_loses_access_at_the_next_run(fleet, tmp_path):
    master = fleet.role("master")[0]["name"]
    kept, removed = fleet.role("worker")[0], fleet.role("worker")[-1]
    assert kept["name"] != removed["name"], "the sandbox needs two worker hosts"
    inventory = yaml.safe_load(fleet.inventory.read_text())
    del inventory["all"]["children"]["locust_workers"]["hosts"][removed["name"]]
    smaller = tmp_path / "without-one-worker.yml"
    smaller.write_text(yaml.safe_dump(inventory))
    argv = fleet.run_argv(tmp_path / "results", users="4", rate="4", run_time="3s")
    argv[argv.index("-i") + 1] = str(smaller)
    # The removed host still runs its workers, configured for this master: before, they
    # joined the run.
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = (tmp_path / "results").iterdir()
    assert f"{removed['name']}_" not in (run_dir / "master.log").read_text()
    allowed = fleet.ssh(master, "nft list set inet locust workers_ipv4").stdout
    assert removed["ip"] not in allowed and kept["ip"] in allowed
    # The whole inventory again: the host is back in the set, and in the run.
    again = fleet.run(tmp_path / "again", users="4", rate="4", run_time="3s")
    assert again.returncode == 0, again.stderr[-3000:]
    assert removed["ip"] in fleet.ssh(master, "nft list set inet locust workers_ipv4").stdout
