"""The Ansible inventory of a sandbox: the same groups an ops team's lab inventory has."""

from __future__ import annotations

from pathlib import Path

import yaml

from .state import SandboxState

HEADER = "# Written by `locust-fleet sandbox up`; rewritten on every up, removed by down.\n"


def inventory_data(state: SandboxState, key: Path) -> dict:
    groups: dict[str, dict] = {"locust_master": {}, "locust_workers": {}, "locust_targets": {}}
    group_of = {"master": "locust_master", "worker": "locust_workers", "target": "locust_targets"}
    for host in state.hosts:
        groups[group_of[host.role]][host.name] = {"ansible_host": host.ip}
    target = next(h for h in state.hosts if h.role == "target")
    return {
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


def write_inventory(path: Path, state: SandboxState, key: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + yaml.safe_dump(inventory_data(state, key), sort_keys=False))
    tmp.replace(path)
