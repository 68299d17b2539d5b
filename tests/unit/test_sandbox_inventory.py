"""The sandbox inventory carries the fleet's groups, addresses and the target URL."""

from __future__ import annotations

from pathlib import Path

import yaml

from locust_fleet.sandbox.inventory import write_inventory
from locust_fleet.sandbox.lab import default_subnet
from locust_fleet.sandbox.state import HostRecord, SandboxState


def test_inventory_groups_hosts_by_role(tmp_path):
    state = SandboxState(
        "t",
        "10.9.9.0/24",
        "lfbr-t",
        [
            HostRecord("t-master", "master", "10.9.9.10"),
            HostRecord("t-target", "target", "10.9.9.20"),
            HostRecord("t-worker1", "worker", "10.9.9.31"),
            HostRecord("t-worker2", "worker", "10.9.9.32"),
        ],
    )
    path = tmp_path / "inv" / "hosts.yml"
    write_inventory(path, state, Path("/k/id"))
    data = yaml.safe_load(path.read_text())["all"]
    children = data["children"]
    assert children["locust_master"]["hosts"] == {"t-master": {"ansible_host": "10.9.9.10"}}
    assert list(children["locust_workers"]["hosts"]) == ["t-worker1", "t-worker2"]
    assert list(children["locust_targets"]["hosts"]) == ["t-target"]
    assert data["vars"]["locust_target_url"] == "http://10.9.9.20"
    assert data["vars"]["ansible_ssh_private_key_file"] == "/k/id"
    assert data["vars"]["locust_install_source"] == "wheelhouse"


def test_default_subnets_differ_per_sandbox_name():
    assert default_subnet("lf") == "10.213.7.0/24"
    assert len({default_subnet(n) for n in ("lf", "it", "lc", "mol")}) == 4
