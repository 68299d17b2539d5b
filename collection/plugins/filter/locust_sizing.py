"""Does a run's user count fit the fleet? Decided before anything starts, from what each worker
host's fleet.locust.locust_host_facts returned.

Locust hands a headless run's users out evenly over the worker processes, and each user of an
HTTP plan holds one connection: one open file in its process, and one local port of its host
toward the target. So a run of U users over P processes needs about U/P open files per process
(plus the process's own) and U/P times the host's processes local ports per host. A run that
cannot fit would fail with EMFILE or EADDRNOTAVAIL, and its failures would read as the target's.
"""

from __future__ import annotations

import math

# Descriptors a worker process holds besides its users' connections (Python, gevent, ZeroMQ,
# its log and plan files; about 15 when idle, measured on the sandbox), with room to spare.
PROCESS_BASELINE_FILES = 50


def locust_sizing_problems(hosts: dict, users) -> list[str]:
    """Problems (empty when the run fits). ``hosts``: worker host -> its host facts
    (worker_instances, workers_nofile, local_port_range)."""
    users = int(users or 0)
    processes = {h: list(f.get("worker_instances") or []) for h, f in hosts.items()}
    total = sum(len(units) for units in processes.values())
    if users <= 0 or total == 0:
        return []
    per_process = math.ceil(users / total)
    problems = []
    limits = [
        n
        for host, facts in hosts.items()
        for unit, n in (facts.get("workers_nofile") or {}).items()
        if unit in processes[host] and n
    ]
    if limits:
        smallest = min(limits)
        room = smallest - PROCESS_BASELINE_FILES
        if per_process > room:
            needed = math.ceil(users / max(room, 1))
            problems.append(
                f"{users} users need at least {needed} worker processes at {smallest} open files "
                f"each ({per_process} users per process now, and {PROCESS_BASELINE_FILES} files "
                f"for the process itself); the fleet has {total}: set locust_worker_processes "
                "or add hosts, or raise the open-file limit (locust_tuning_nofile)"
            )
    for host, facts in sorted(hosts.items()):
        ports = facts.get("local_port_range")
        if not ports or not processes[host]:
            continue
        size = int(ports[1]) - int(ports[0]) + 1
        on_host = per_process * len(processes[host])
        if on_host > size:
            problems.append(
                f"{host}: {on_host} users on its {len(processes[host])} worker processes need "
                f"{on_host} local ports toward the target; its range "
                f"net.ipv4.ip_local_port_range ({ports[0]}-{ports[1]}) has {size}: widen it "
                "(locust_tuning_sysctl_overrides) or add worker hosts"
            )
    return problems


class FilterModule:
    def filters(self):
        return {"locust_sizing_problems": locust_sizing_problems}
