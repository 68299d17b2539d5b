"""The Ansible inventory of a sandbox: the same groups an ops team's lab inventory has.

A monitoring host (`sandbox up --monitoring`) goes into group `monitoring`, which no
fleet play targets; with it, the master serves live metrics to it and to this machine.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from .state import SandboxState

HEADER = "# Written by `locust-fleet sandbox up`; rewritten on every up, removed by down.\n"


def inventory_data(state: SandboxState, key: Path) -> dict:
    groups: dict[str, dict] = {"locust_master": {}, "locust_workers": {}, "locust_targets": {}}
    group_of = {
        "master": "locust_master",
        "worker": "locust_workers",
        "target": "locust_targets",
        "monitor": "monitoring",
    }
    for host in state.hosts:
        groups.setdefault(group_of[host.role], {})[host.name] = {"ansible_host": host.ip}
    target = next(h for h in state.hosts if h.role == "target")
    data = {
        "all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": str(key),
                "ansible_ssh_common_args": (
                    "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
                ),
                "ansible_python_interpreter": "/usr/bin/python3",
                # Sandbox hosts have no route out: Locust comes from the controller's wheelhouse.
                "locust_install_source": "wheelhouse",
                "locust_target_url": f"http://{target.ip}",
            },
            "children": {group: {"hosts": hosts} for group, hosts in groups.items()},
        }
    }
    monitors = [h.ip for h in state.hosts if h.role == "monitor"]
    if monitors:
        # The monitor scrapes the master; so may this machine (the bridge's address).
        controller = str(next(ipaddress.ip_network(state.subnet).hosts()))
        data["all"]["vars"]["locust_metrics_enabled"] = True
        data["all"]["vars"]["locust_metrics_allowed_sources"] = [*monitors, controller]
    return data


def write_inventory(path: Path, state: SandboxState, key: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + yaml.safe_dump(inventory_data(state, key), sort_keys=False))
    tmp.replace(path)
